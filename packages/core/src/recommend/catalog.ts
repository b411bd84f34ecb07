import type { CatalogItem, ExportedField } from '../protocol/catalog.ts';
import type { CatalogProduct, Store } from '../store.ts';

/** Catalog item types recommendations read as products. */
export const PRODUCT_TYPES: ReadonlySet<string> = new Set(['product', 'products', 'product-variant', 'variant']);

// Exported field names (lower case, without "_" and "-") that carry the attributes recommendations filter and score on.
const CATEGORY = ['category', 'categories', 'collection', 'collections', 'productcategory'];
const BRAND = ['brand', 'manufacturer', 'vendor', 'maker'];
const PRICE = ['price', 'unitprice', 'priceamount', 'saleprice'];
const NAME = ['name', 'title', 'productname'];
const STOCK = ['instock', 'stock', 'stocklevel', 'available', 'availability', 'quantity', 'inventory', 'stockonhand'];
/** Field types that never make a similarity attribute. */
const NOT_ATTRIBUTES = new Set(['richtext', 'media', 'json', 'blocks', 'dynamiczone', 'component', 'password']);
const IN_STOCK_WORDS = new Set(['instock', 'in_stock', 'in stock', 'available', 'yes', 'true']);
const OUT_OF_STOCK_WORDS = new Set(['outofstock', 'out_of_stock', 'out of stock', 'soldout', 'sold out', 'unavailable', 'no', 'false', 'discontinued']);

const key = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

/**
 * A catalog product as recommendations see it. Category, brand, price, name and stock come
 * from the usual field names (`category`, `brand`/`vendor`, `price`, `name`/`title`,
 * `inStock`/`stock`/`availability`…); other short scalar fields are attributes for more-like-this.
 * The item id must be the `product_id` the storefront's events carry.
 */
export function productFromCatalog(item: CatalogItem): CatalogProduct {
  if (item.deleted) return { id: item.id, attributes: {}, deleted: true };
  const out: CatalogProduct = { id: item.id, attributes: {} };
  for (const f of item.fields) {
    const k = key(f.name);
    if (CATEGORY.includes(k) && out.category === undefined) out.category = firstText(f.value);
    else if (BRAND.includes(k) && out.brand === undefined) out.brand = firstText(f.value);
    else if (PRICE.includes(k) && out.price === undefined) out.price = priceOf(f.value);
    else if (NAME.includes(k) && out.name === undefined) out.name = firstText(f.value);
    else if (STOCK.includes(k) && out.inStock === undefined) out.inStock = stockOf(f.value);
    else {
      const v = attributeValue(f);
      if (v !== undefined) out.attributes[f.name] = v;
    }
  }
  return out;
}

/** Projects the product items of a catalog batch onto the recommendation items, as they are stored now. */
export async function syncCatalogProducts(store: Store, streamId: string, items: CatalogItem[]): Promise<number> {
  const products: CatalogProduct[] = [];
  for (const item of items) {
    if (!PRODUCT_TYPES.has(item.type)) continue;
    // The stored version: an older update in the batch was ignored by the catalog.
    const stored = await store.catalog.get(streamId, { type: item.type, id: item.id, locale: item.locale });
    if (stored) products.push(productFromCatalog(stored));
  }
  if (products.length > 0) await store.recommend.putProducts(products);
  return products.length;
}

function firstText(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  if (typeof x === 'string' && x !== '' && x.length <= 200) return x;
  if (x !== null && typeof x === 'object') {
    const named = (x as Record<string, unknown>).name ?? (x as Record<string, unknown>).title;
    if (typeof named === 'string' && named !== '' && named.length <= 200) return named;
  }
  return undefined;
}

function priceOf(v: unknown): number | undefined {
  const x = v !== null && typeof v === 'object' && !Array.isArray(v) ? ((v as Record<string, unknown>).amount ?? (v as Record<string, unknown>).value) : v;
  const n = typeof x === 'string' ? Number(x) : x;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

function stockOf(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v > 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (IN_STOCK_WORDS.has(s)) return true;
    if (OUT_OF_STOCK_WORDS.has(s)) return false;
    const n = Number(s);
    if (s !== '' && Number.isFinite(n)) return n > 0;
  }
  return undefined;
}

function attributeValue(f: ExportedField): unknown {
  if (NOT_ATTRIBUTES.has(f.type)) return undefined;
  const v = f.value;
  if (typeof v === 'string') return v !== '' && v.length <= 200 ? v : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.length > 0 && v.length <= 50 && v.every((x) => typeof x === 'string' && x.length <= 200)) return v;
  return undefined;
}
