import { z } from 'zod';
import { AttuneError } from '../errors.ts';
import { zodIssues } from '../protocol/parse.ts';
import type { Message } from '../protocol/segment.ts';
import { encryptValue, type FieldCipher } from './fields.ts';

/** Purposes a visitor grants data for. `necessary` is always granted. */
export const DEFAULT_PURPOSES = ['necessary', 'analytics', 'personalization', 'marketing'] as const;
export const NECESSARY = 'necessary';
export const PERSONALIZATION = 'personalization';
export const MARKETING = 'marketing';

export type Grants = Record<string, boolean>;

/** One grant or revocation, as the profile keeps it. */
export interface ConsentChange {
  purposes: Grants;
  /** Epoch ms (the event's time for consent sent on events). */
  at: number;
  /** `event:<messageId>`, `api`, or what the caller of the consent API names. */
  source: string;
}

/** The consent a profile holds: the current grants and their history, oldest first. */
export interface ConsentState {
  purposes: Grants;
  updatedAt: number;
  history: ConsentChange[];
}

const purposeName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be snake_case (a-z, 0-9, _)');

const fieldRuleSchema = z
  .object({
    purpose: purposeName,
    /** What happens to the field when its purpose is not granted. */
    otherwise: z.enum(['drop', 'hash', 'encrypt']).default('drop'),
  })
  .strict();

const eventRuleSchema = z
  .object({
    purpose: purposeName,
    /** Without the purpose: drop the call, or `reduce` it to what is necessary (no properties, traits or context). */
    otherwise: z.enum(['drop', 'reduce']).default('drop'),
    /** Dotted paths into the call (`properties.email`, `traits.phone`, `context.ip`) with their own purpose. */
    fields: z.record(z.string().min(1).max(200), fieldRuleSchema).default({}),
  })
  .strict();

export type EventRule = z.output<typeof eventRuleSchema>;

export const DEFAULT_EVENT_RULES: Record<string, EventRule> = {
  '*': { purpose: 'analytics', otherwise: 'drop', fields: {} },
  identify: { purpose: 'personalization', otherwise: 'drop', fields: {} },
  group: { purpose: 'personalization', otherwise: 'drop', fields: {} },
  alias: { purpose: 'personalization', otherwise: 'drop', fields: {} },
  // The record of a consent change is itself necessary (proof of what was granted when).
  'Consent Updated': { purpose: 'necessary', otherwise: 'drop', fields: {} },
};

export const consentConfigSchema = z
  .object({
    purposes: z.array(purposeName).min(1).max(50).default([...DEFAULT_PURPOSES]),
    /**
     * Consent of a visitor who never expressed any: `all` (implied consent, the default for
     * sites without a consent banner) or `necessary` (opt-in regimes).
     */
    unknown: z.enum(['all', 'necessary']).default('all'),
    /** Consent-platform category names mapped to purposes (`{ Advertising: 'marketing' }`); names also match purposes case-insensitively. */
    categories: z.record(z.string().min(1).max(100), purposeName).default({}),
    /** Rules by event name (`Order Completed`, `Page Viewed`) or call type (`identify`), `*` for the rest. */
    events: z.record(z.string().min(1).max(200), eventRuleSchema).default(() => structuredCopy(DEFAULT_EVENT_RULES)),
    /** Grants and revocations kept per profile (oldest dropped first). */
    historyLimit: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();

export type ConsentConfigInput = z.input<typeof consentConfigSchema>;
export type ConsentConfig = z.output<typeof consentConfigSchema>;

/** Validates a consent configuration: purposes referenced by rules must be declared. */
export function parseConsentConfig(input: unknown): ConsentConfig {
  const r = consentConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issues = zodIssues(r.error).map((i) => ({ ...i, path: `privacy.consent.${i.path}` }));
    throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
  }
  const config = r.data;
  if (!config.purposes.includes(NECESSARY)) config.purposes.unshift(NECESSARY);
  const known = new Set(config.purposes);
  const check = (purpose: string, path: string) => {
    if (!known.has(purpose)) throw new AttuneError('VALIDATION', `privacy.consent.${path}: unknown purpose "${purpose}" (declared: ${config.purposes.join(', ')})`, { issues: [{ path: `privacy.consent.${path}`, message: `unknown purpose "${purpose}"` }] });
  };
  for (const [name, rule] of Object.entries(config.events)) {
    check(rule.purpose, `events.${name}.purpose`);
    for (const [path, f] of Object.entries(rule.fields)) check(f.purpose, `events.${name}.fields.${path}.purpose`);
  }
  for (const [name, purpose] of Object.entries(config.categories)) check(purpose, `categories.${name}`);
  if (!config.events['*']) config.events['*'] = { purpose: 'necessary', otherwise: 'drop', fields: {} };
  return config;
}

/**
 * Reads consent from a call's context into purposes: Segment's `consent.categoryPreferences`,
 * or `consent.purposes` as @attune/tracker sends it. Null when absent.
 */
export function consentOfContext(context: unknown, config: ConsentConfig): Grants | null {
  const consent = (context as { consent?: { categoryPreferences?: unknown; purposes?: unknown } } | undefined)?.consent;
  const prefs = consent?.categoryPreferences ?? consent?.purposes;
  if (prefs === null || typeof prefs !== 'object' || Array.isArray(prefs)) return null;
  return grantsFromCategories(prefs as Record<string, unknown>, config);
}

/** Maps category names to declared purposes; unknown categories and non-boolean values are ignored. */
export function grantsFromCategories(prefs: Record<string, unknown>, config: ConsentConfig): Grants {
  const out: Grants = {};
  for (const [category, value] of Object.entries(prefs)) {
    if (typeof value !== 'boolean') continue;
    const purpose = config.categories[category] ?? config.purposes.find((p) => p === category.toLowerCase());
    if (purpose !== undefined && purpose !== NECESSARY) out[purpose] = out[purpose] === true || value;
  }
  return out;
}

/**
 * Every declared purpose, granted or not: new grants over stored ones. A visitor who expressed
 * some consent is denied what they did not grant; one who never did gets the `unknown` default.
 */
export function effectiveGrants(stored: Grants | null | undefined, incoming: Grants | null, config: ConsentConfig): Grants {
  const out: Grants = {};
  const fallback = !stored && !incoming && config.unknown === 'all';
  for (const p of config.purposes) out[p] = p === NECESSARY || (incoming?.[p] ?? stored?.[p] ?? fallback);
  return out;
}

/** Whether a visitor granted anything beyond what is necessary (identifiers are stitched only then). */
export function grantsBeyondNecessary(grants: Grants): boolean {
  return Object.entries(grants).some(([p, on]) => on && p !== NECESSARY);
}

/**
 * Records a grant/revocation on a profile's consent state when it changes what is granted.
 * Returns the new state (the same object when nothing changed).
 */
export function recordConsent(state: ConsentState | undefined, change: ConsentChange, config: ConsentConfig): ConsentState {
  const current = state?.purposes ?? {};
  const next: Grants = { ...current, ...change.purposes, [NECESSARY]: true };
  const same = state && Object.keys(next).every((p) => current[p] === next[p]);
  if (same && state) return state;
  const history = [...(state?.history ?? []), { purposes: change.purposes, at: change.at, source: change.source }];
  return { purposes: next, updatedAt: Math.max(state?.updatedAt ?? 0, change.at), history: history.slice(-config.historyLimit) };
}

export interface GateResult {
  /** The call as it may be stored, or null when it is dropped. */
  message: Message | null;
  /** Identifiers may be linked and profiles merged (some purpose beyond necessary is granted). */
  stitch: boolean;
  /** The rule's purpose, and whether it was granted. */
  purpose: string;
  granted: boolean;
}

export function ruleFor(name: string, config: ConsentConfig): EventRule {
  return (config.events[name] ?? config.events['*']) as EventRule;
}

/**
 * The consent gate: what of one call may be kept under these grants. A call whose purpose is
 * granted is kept with its fields filtered (drop, hash or encrypt per field rule); otherwise it is dropped
 * or reduced to the necessary (no properties, traits or context beyond fields whose purpose is granted).
 */
export function gateMessage(
  m: Message,
  name: string,
  grants: Grants,
  config: ConsentConfig,
  hash: ((value: string) => string) | undefined,
  cipher?: FieldCipher | undefined,
): GateResult {
  const rule = ruleFor(name, config);
  const granted = grants[rule.purpose] === true;
  const stitch = grantsBeyondNecessary(grants);
  if (!granted && rule.otherwise === 'drop') return { message: null, stitch, purpose: rule.purpose, granted };
  // The common case (granted, no field rules) keeps the call as parsed: nothing to copy.
  if (granted && !hasKeys(rule.fields)) return { message: m, stitch, purpose: rule.purpose, granted };
  const source = m as unknown as Record<string, unknown>;
  let out: Record<string, unknown>;
  if (granted) out = structuredCopy(source);
  else {
    out = structuredCopy(source);
    for (const k of ['properties', 'traits', 'setOnce', 'increment', 'unset']) if (k in out) out[k] = Array.isArray(out[k]) ? [] : {};
    const consent = (source.context as Record<string, unknown> | undefined)?.consent;
    out.context = consent === undefined ? {} : { consent };
  }
  for (const [path, f] of Object.entries(rule.fields)) {
    const fieldGranted = grants[f.purpose] === true;
    const value = getPath(source, path);
    if (value === undefined) continue;
    if (fieldGranted) {
      if (!granted) setPath(out, path, structuredCopy(value));
      continue;
    }
    if (f.otherwise === 'hash') {
      if (!hash) throw new AttuneError('VALIDATION', `privacy.consent.events.${name}.fields.${path}: hashing needs a hasher (engine option privacy.hash)`);
      setPath(out, path, hash(typeof value === 'string' ? value : JSON.stringify(value)));
    } else if (f.otherwise === 'encrypt') {
      if (!cipher) throw new AttuneError('VALIDATION', `privacy.consent.events.${name}.fields.${path}: encrypting needs an encryption key (engine option privacy.cipher)`);
      setPath(out, path, encryptValue(value, cipher));
    } else deletePath(out, path);
  }
  return { message: out as unknown as Message, stitch, purpose: rule.purpose, granted };
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function structuredCopy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(cur, part) ? cur[part] : undefined;
    if (next === null || typeof next !== 'object') Object.defineProperty(cur, part, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[part] as Record<string, unknown>;
  }
  Object.defineProperty(cur, parts[parts.length - 1] as string, { value, enumerable: true, writable: true, configurable: true });
}

function deletePath(obj: Record<string, unknown>, path: string): void {
  const parts = path.split('.');
  let cur: unknown = obj;
  for (const part of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur !== null && typeof cur === 'object') delete (cur as Record<string, unknown>)[parts[parts.length - 1] as string];
}
