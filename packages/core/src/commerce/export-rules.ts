import { type FieldRules, fieldRulesSchema, type SourceSchemas, validateFieldRules } from '../exports/fields.ts';

/**
 * An adapter's field rules, given per exported type in its options (`{ product: {...},
 * customer: {...} }`), parsed and checked against the adapter's source schemas. A rule that
 * hashes needs the adapter's hash key. Throws one error listing every problem with its path.
 */
export function resolveFieldRules(perType: Record<string, unknown>, schemas: SourceSchemas, options: { hashKey?: string | undefined; label: string }): FieldRules {
  const given = Object.fromEntries(Object.entries(perType).filter(([, rules]) => rules !== undefined && Object.keys(rules as object).length > 0));
  const parsed = fieldRulesSchema.safeParse(given);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`${options.label}: ${issues.join('; ')}`);
  }
  const issues = validateFieldRules(parsed.data, schemas);
  const hashes = Object.values(parsed.data).some((t) => Object.values(t.fields).some((f) => f.transform === 'hash'));
  if (hashes && !options.hashKey) issues.push({ path: 'hashKey', message: 'a field rule hashes, so a hash key is required' });
  if (issues.length > 0) throw new Error(`${options.label}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
