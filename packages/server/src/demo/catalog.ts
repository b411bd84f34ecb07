import { createRandom, deriveSeed } from './random.ts';

/**
 * The demo shop's catalog: ~200 products over seven categories, deterministic per seed. The
 * demo events, the example storefront and the recommendation examples all use it, so a
 * product id seen in an event is a product the storefront can show.
 */
export interface DemoProduct {
  product_id: string;
  sku: string;
  name: string;
  brand: string;
  category: string;
  /** The kind of product within the category ("Trail Runner", "Rain Jacket"). */
  subcategory: string;
  variant: string;
  price: number;
  currency: 'EUR';
  slug: string;
  /** Storefront path, `/products/<slug>`. */
  path: string;
  url: string;
  image_url: string;
  tags: string[];
  /** Average review score, 3.5–5.0. */
  rating: number;
  /** Relative popularity (Zipf-like): how often the demo visitors look at it. */
  popularity: number;
}

export const DEMO_SHOP_URL = 'https://shop.example.com';
export const DEMO_CURRENCY = 'EUR';

interface CategorySpec {
  name: string;
  code: string;
  count: number;
  types: string[];
  brands: string[];
  price: [number, number];
  colors: string[];
}

const APPAREL_COLORS = ['Black', 'Navy', 'Olive', 'Sand', 'Grey', 'Burgundy', 'White', 'Forest Green'];
const TECH_COLORS = ['Black', 'White', 'Graphite', 'Silver', 'Midnight Blue'];

export const DEMO_CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Shoes',
    code: 'SHO',
    count: 40,
    types: ['Sneaker', 'Trail Runner', 'Running Shoe', 'Chelsea Boot', 'Hiking Boot', 'Loafer', 'Sandal', 'Slip-On'],
    brands: ['Stride', 'Northpeak', 'Aerofoot', 'Kessler & Co'],
    price: [49, 219],
    colors: APPAREL_COLORS,
  },
  {
    name: 'Outerwear',
    code: 'OUT',
    count: 30,
    types: ['Rain Jacket', 'Down Parka', 'Fleece Jacket', 'Windbreaker', 'Trench Coat', 'Softshell Jacket', 'Puffer Vest'],
    brands: ['Northpeak', 'Fjellstad', 'Harbor Line', 'Urbanist'],
    price: [69, 389],
    colors: APPAREL_COLORS,
  },
  {
    name: 'Clothing',
    code: 'CLO',
    count: 30,
    types: ['T-Shirt', 'Hoodie', 'Merino Sweater', 'Chinos', 'Denim Jeans', 'Flannel Shirt', 'Joggers'],
    brands: ['Urbanist', 'Harbor Line', 'Loom & Leaf', 'Basics Lab'],
    price: [19, 149],
    colors: APPAREL_COLORS,
  },
  {
    name: 'Bags',
    code: 'BAG',
    count: 25,
    types: ['Backpack', 'Tote Bag', 'Duffel Bag', 'Crossbody Bag', 'Laptop Sleeve', 'Messenger Bag', 'Weekender'],
    brands: ['Carryall', 'Northpeak', 'Kessler & Co', 'Urbanist'],
    price: [29, 259],
    colors: APPAREL_COLORS,
  },
  {
    name: 'Accessories',
    code: 'ACC',
    count: 30,
    types: ['Beanie', 'Wool Scarf', 'Sunglasses', 'Leather Belt', 'Gloves', 'Baseball Cap', 'Wallet', 'Watch'],
    brands: ['Kessler & Co', 'Loom & Leaf', 'Solstice', 'Urbanist'],
    price: [15, 249],
    colors: APPAREL_COLORS,
  },
  {
    name: 'Electronics',
    code: 'ELE',
    count: 30,
    types: [
      'Wireless Earbuds',
      'Noise-Cancelling Headphones',
      'Smartwatch',
      'Action Camera',
      'Power Bank',
      'Bluetooth Speaker',
      'Fitness Tracker',
      'E-Reader',
    ],
    brands: ['Voltline', 'Sonora', 'Pulse', 'Lumen'],
    price: [25, 549],
    colors: TECH_COLORS,
  },
  {
    name: 'Outdoor',
    code: 'ODR',
    count: 15,
    types: ['Tent', 'Sleeping Bag', 'Trekking Poles', 'Water Bottle', 'Headlamp', 'Camping Stove'],
    brands: ['Northpeak', 'Fjellstad', 'Trailcraft'],
    price: [12, 399],
    colors: ['Orange', 'Olive', 'Grey', 'Blue'],
  },
];

const ADJECTIVES = [
  'Alpine',
  'Urban',
  'Classic',
  'Pro',
  'Lite',
  'Everyday',
  'Summit',
  'Coastal',
  'Metro',
  'Nordic',
  'Heritage',
  'Aero',
  'Storm',
  'Trail',
  'Studio',
  'Voyager',
  'Essential',
  'Terra',
  'Drift',
  'Ember',
];

const cache = new Map<number, readonly DemoProduct[]>();

/** The demo catalog for a seed (default 42). The same seed always gives the same products. */
export function demoCatalog(seed = 42): readonly DemoProduct[] {
  const cached = cache.get(seed);
  if (cached) return cached;
  const rng = createRandom(deriveSeed(seed, 0xca7a106));
  const products: DemoProduct[] = [];
  const names = new Set<string>();
  let number = 1001;
  for (const category of DEMO_CATEGORIES) {
    for (let i = 0; i < category.count; i++) {
      // Every type appears at least once per category, then at random.
      const subcategory = i < category.types.length ? (category.types[i] as string) : rng.pick(category.types);
      const brand = rng.pick(category.brands);
      let name = '';
      for (let attempt = 0; attempt < 50 && (name === '' || names.has(name)); attempt++) {
        name = `${brand} ${rng.pick(ADJECTIVES)} ${subcategory}`;
      }
      if (names.has(name)) name = `${name} ${number}`;
      names.add(name);
      const [low, high] = category.price;
      // Prices cluster at the cheaper end, as in real catalogs, and end in .95 or .99.
      const base = low + (high - low) * rng.next() ** 1.6;
      const price = Math.max(low, Math.floor(base)) + (rng.chance(0.5) ? 0.99 : 0.95);
      const variant = rng.pick(category.colors);
      const slug = slugify(`${name} ${variant}`);
      const id = `p-${number}`;
      products.push({
        product_id: id,
        sku: `${category.code}-${number}-${variant.replace(/[^A-Za-z]/g, '').slice(0, 3).toUpperCase()}`,
        name,
        brand,
        category: category.name,
        subcategory,
        variant,
        price: Math.round(price * 100) / 100,
        currency: DEMO_CURRENCY,
        slug,
        path: `/products/${slug}`,
        url: `${DEMO_SHOP_URL}/products/${slug}`,
        image_url: `${DEMO_SHOP_URL}/images/${id}.jpg`,
        tags: [category.name.toLowerCase(), subcategory.toLowerCase(), brand.toLowerCase(), variant.toLowerCase()],
        rating: Math.round((3.5 + rng.next() * 1.5) * 10) / 10,
        popularity: 0,
      });
      number++;
    }
  }
  // Zipf-like popularity over a random ranking: a few best-sellers, a long tail.
  const ranking = rng.sample(products, products.length);
  ranking.forEach((p, rank) => {
    p.popularity = Math.round((1000 / (rank + 1) ** 0.8) * 100) / 100;
  });
  const frozen = Object.freeze(products.map((p) => Object.freeze({ ...p, tags: Object.freeze([...p.tags]) as string[] })));
  cache.set(seed, frozen);
  return frozen;
}

/** The standard Segment product properties of a catalog product, for event payloads. */
export function productProperties(p: DemoProduct, extra: { quantity?: number; position?: number } = {}): Record<string, unknown> {
  return {
    product_id: p.product_id,
    sku: p.sku,
    name: p.name,
    brand: p.brand,
    category: p.category,
    variant: p.variant,
    price: p.price,
    url: p.url,
    image_url: p.image_url,
    ...extra,
  };
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
