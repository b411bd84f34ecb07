/**
 * A generated shop with planted structure, for recommendation benchmarks: products in
 * categories and brands with prices; shoppers who prefer one or two categories, a brand or two
 * and a price level; complementary bundles (a product and its partner in another category, e.g.
 * a camera and its memory card) that shoppers buy together or soon after. Deterministic per seed.
 */
import { mulberry32 } from '@attune/core';

export interface Product {
  id: string;
  category: string;
  brand: string;
  price: number;
  /** Intrinsic appeal: some products sell more whatever the shopper (Zipf-like). */
  appeal: number;
  material: string;
  style: string;
}

export interface Shopper {
  id: string;
  categories: string[];
  brands: string[];
  /** Multiplier on category base prices the shopper gravitates to. */
  priceLevel: number;
}

export interface ShopOptions {
  products: number;
  categories: number;
  brands: number;
  bundles: number;
  seed: number;
}

const MATERIALS = ['cotton', 'leather', 'steel', 'wood', 'plastic', 'wool', 'glass', 'mesh'];
const STYLES = ['classic', 'sport', 'outdoor', 'minimal', 'luxury', 'kids'];

export class Shop {
  readonly products: Product[] = [];
  readonly byCategory = new Map<string, Product[]>();
  /** Product id → its bundle partner (both directions). */
  readonly partner = new Map<string, Product>();
  readonly categories: string[];
  readonly brands: string[];
  readonly random: () => number;
  private readonly brandCategories = new Map<string, string[]>();

  constructor(readonly options: ShopOptions) {
    const r = (this.random = mulberry32(options.seed));
    this.categories = Array.from({ length: options.categories }, (_, i) => `cat-${i}`);
    this.brands = Array.from({ length: options.brands }, (_, i) => `brand-${i}`);
    const basePrice = new Map(this.categories.map((c) => [c, Math.round(10 * Math.exp(r() * 4))]));
    // Each brand sells in a few categories.
    for (const b of this.brands) this.brandCategories.set(b, [this.pick(this.categories), this.pick(this.categories), this.pick(this.categories)]);
    const brandsOf = new Map<string, string[]>(this.categories.map((c) => [c, []]));
    for (const [b, cs] of this.brandCategories) for (const c of cs) brandsOf.get(c)?.push(b);
    for (let i = 0; i < options.products; i++) {
      const category = this.categories[i % this.categories.length] as string;
      const brands = brandsOf.get(category) as string[];
      const brand = brands.length > 0 ? this.pick(brands) : this.pick(this.brands);
      const p: Product = {
        id: `p${i}`,
        category,
        brand,
        price: Math.round((basePrice.get(category) as number) * Math.exp((r() - 0.5) * 1.6) * 100) / 100,
        appeal: 1 / (1 + Math.floor(r() * 50)) ** 0.8,
        material: this.pick(MATERIALS),
        style: this.pick(STYLES),
      };
      this.products.push(p);
      const list = this.byCategory.get(category) ?? [];
      list.push(p);
      this.byCategory.set(category, list);
    }
    for (let i = 0; i < options.bundles; i++) {
      const a = this.pick(this.products);
      const b = this.pick(this.products);
      if (a.category === b.category || this.partner.has(a.id) || this.partner.has(b.id)) continue;
      this.partner.set(a.id, b);
      this.partner.set(b.id, a);
    }
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  shopper(i: number): Shopper {
    const n = this.random() < 0.6 ? 1 : 2;
    const categories = Array.from({ length: n }, () => this.pick(this.categories));
    const brands = categories.map((c) => this.pick(this.byCategory.get(c) as Product[]).brand);
    return { id: `shopper-${i}`, categories, brands, priceLevel: Math.exp((this.random() - 0.5) * 1.2) };
  }

  /** A product the shopper would look at: a preferred category (85%), weighted by appeal, brand and price fit. */
  browse(s: Shopper, exclude: Set<string> = new Set()): Product {
    const category = this.random() < 0.85 ? this.pick(s.categories) : this.pick(this.categories);
    const pool = this.byCategory.get(category) as Product[];
    let total = 0;
    const weights = pool.map((p) => {
      if (exclude.has(p.id)) return 0;
      const brand = s.brands.includes(p.brand) ? 4 : 1;
      const median = this.medianPrice(category) * s.priceLevel;
      const fit = Math.exp(-((Math.log(p.price / median) / 0.5) ** 2));
      const w = p.appeal * brand * (0.2 + fit);
      total += w;
      return w;
    });
    let x = this.random() * total;
    for (const [i, w] of weights.entries()) {
      x -= w;
      if (x <= 0 && w > 0) return pool[i] as Product;
    }
    return this.pick(pool);
  }

  private medians = new Map<string, number>();
  private medianPrice(category: string): number {
    let m = this.medians.get(category);
    if (m === undefined) {
      const prices = (this.byCategory.get(category) as Product[]).map((p) => p.price).sort((a, b) => a - b);
      m = prices[Math.floor(prices.length / 2)] as number;
      this.medians.set(category, m);
    }
    return m;
  }
}

export const productProps = (p: Product) => ({ product_id: p.id, category: p.category, brand: p.brand, price: p.price });
