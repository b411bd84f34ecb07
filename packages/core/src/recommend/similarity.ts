import type { RecItem } from '../store.ts';

/**
 * Attribute similarity of two items, 0..1: same category 0.35, same brand 0.2, price closeness
 * 0.15 (1 at equal prices, 0 at a ratio of 3 or more), and 0.3 for the share of catalog
 * attribute values they have in common (Jaccard over `name=value` tokens; list values count
 * each element).
 */
export function similarity(a: RecItem, b: RecItem, aTokens: Set<string> = attributeTokens(a)): number {
  let s = 0;
  if (a.category !== null && a.category === b.category) s += 0.35;
  if (a.brand !== null && a.brand === b.brand) s += 0.2;
  if (a.price !== null && b.price !== null && a.price > 0 && b.price > 0) {
    const ratio = Math.abs(Math.log(a.price / b.price)) / Math.log(3);
    s += 0.15 * Math.max(0, 1 - ratio);
  }
  const bTokens = attributeTokens(b);
  if (aTokens.size > 0 && bTokens.size > 0) {
    let common = 0;
    for (const t of aTokens) if (bTokens.has(t)) common++;
    s += (0.3 * common) / (aTokens.size + bTokens.size - common);
  }
  return s;
}

/** `name=value` tokens of an item's catalog attributes (strings lower-cased, numbers as they are). */
export function attributeTokens(item: RecItem): Set<string> {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(item.attributes)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values.slice(0, 50)) {
      if (typeof v === 'string' && v !== '' && v.length <= 200) out.add(`${name}=${v.toLowerCase()}`);
      else if (typeof v === 'number' || typeof v === 'boolean') out.add(`${name}=${String(v)}`);
    }
  }
  return out;
}
