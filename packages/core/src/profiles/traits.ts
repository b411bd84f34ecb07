import type { TraitStrategy } from '../identity/identifiers.ts';
import type { ProfileRecord, TraitMeta } from './types.ts';

export type TraitWriteMode = 'set' | 'setOnce';

/**
 * Writes traits at event time `at`. `latest` (default) keeps the value of the latest write
 * by event time, so a late-arriving old event never overwrites newer data; `first` and
 * setOnce keep the earliest; `max`/`min` compare numbers; `union` collects array items.
 */
export function writeTraits(
  profile: ProfileRecord,
  traits: Record<string, unknown>,
  at: number,
  mode: TraitWriteMode,
  strategies: Record<string, TraitStrategy>,
): void {
  for (const key of Object.keys(traits)) {
    const value = traits[key];
    if (value === undefined) continue;
    const meta = Object.hasOwn(profile.traitMeta, key) ? profile.traitMeta[key] : undefined;
    const has = Object.hasOwn(profile.traits, key);
    const strategy = mode === 'setOnce' ? 'first' : (strategies[key] ?? (meta?.once ? 'first' : 'latest'));
    const incoming: TraitMeta = mode === 'setOnce' ? { at, once: true } : { at };
    if (!has || !meta) {
      set(profile, key, strategy === 'union' ? toArray(value) : value, incoming);
      continue;
    }
    const resolved = resolve(strategy, profile.traits[key], meta, value, incoming);
    set(profile, key, resolved.value, resolved.meta);
  }
}

export function incrementTraits(profile: ProfileRecord, increments: Record<string, number>, at: number): void {
  for (const key of Object.keys(increments)) {
    const current = profile.traits[key];
    const base = typeof current === 'number' ? current : 0;
    set(profile, key, base + (increments[key] ?? 0), { at: Math.max(at, profile.traitMeta[key]?.at ?? at) });
  }
}

export function unsetTraits(profile: ProfileRecord, keys: string[], at: number): void {
  for (const key of keys) {
    const meta = profile.traitMeta[key];
    if (meta && meta.at > at) continue;
    delete profile.traits[key];
    delete profile.traitMeta[key];
  }
}

/** Merges the loser's traits into the survivor, trait by trait, by each trait's strategy. */
export function mergeTraits(
  survivor: ProfileRecord,
  loser: ProfileRecord,
  strategies: Record<string, TraitStrategy>,
): void {
  for (const key of Object.keys(loser.traits)) {
    const loserMeta = loser.traitMeta[key] ?? { at: loser.updatedAt };
    const survivorMeta = survivor.traitMeta[key];
    if (!Object.hasOwn(survivor.traits, key) || !survivorMeta) {
      set(survivor, key, loser.traits[key], loserMeta);
      continue;
    }
    const strategy = strategies[key] ?? (survivorMeta.once || loserMeta.once ? 'first' : 'latest');
    const resolved = resolve(strategy, survivor.traits[key], survivorMeta, loser.traits[key], loserMeta);
    set(survivor, key, resolved.value, resolved.meta);
  }
}

function resolve(
  strategy: TraitStrategy,
  current: unknown,
  currentMeta: TraitMeta,
  incoming: unknown,
  incomingMeta: TraitMeta,
): { value: unknown; meta: TraitMeta } {
  switch (strategy) {
    case 'first':
      return incomingMeta.at < currentMeta.at
        ? { value: incoming, meta: { ...incomingMeta, once: true } }
        : { value: current, meta: { ...currentMeta, once: true } };
    case 'max':
    case 'min': {
      if (typeof incoming !== 'number') return { value: current, meta: currentMeta };
      if (typeof current !== 'number') return { value: incoming, meta: incomingMeta };
      const takeIncoming = strategy === 'max' ? incoming > current : incoming < current;
      return takeIncoming ? { value: incoming, meta: incomingMeta } : { value: current, meta: currentMeta };
    }
    case 'union': {
      const merged = [...toArray(current)];
      for (const item of toArray(incoming)) if (!merged.some((m) => sameJson(m, item))) merged.push(item);
      return { value: merged, meta: { at: Math.max(currentMeta.at, incomingMeta.at) } };
    }
    default:
      return incomingMeta.at >= currentMeta.at
        ? { value: incoming, meta: { at: incomingMeta.at } }
        : { value: current, meta: currentMeta };
  }
}

function set(profile: ProfileRecord, key: string, value: unknown, meta: TraitMeta): void {
  // defineProperty, not assignment: a key can never reach a prototype.
  Object.defineProperty(profile.traits, key, { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(profile.traitMeta, key, { value: meta, enumerable: true, writable: true, configurable: true });
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
