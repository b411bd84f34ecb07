import { memoizedHash } from '../hash-memo.ts';
import { extractIdentifiers, type IdentityConfig, plainProtectedIdentifiers } from '../identity/identifiers.ts';
import type { Message } from '../protocol/segment.ts';
import { type IdentityKey, identityKeyString, type StoreTx } from '../store.ts';
import { type ConsentChange, type ConsentConfig, type ConsentState, consentOfContext, effectiveGrants, gateMessage } from './consent.ts';
import { type FieldCipher, type FieldPolicy, protectFields } from './fields.ts';

/** What ingestion needs to enforce privacy. */
export interface IngestPrivacy {
  consent: ConsentConfig;
  /** Keyed hash for `hash` field rules and suppressed identifiers (the host's HMAC; the core has no crypto). */
  hash?: ((value: string) => string) | undefined;
  /** Encryption for `encrypt` rules and stored-field policies (the host's AES-256-GCM). */
  cipher?: FieldCipher | undefined;
  /** Traits and properties stored hashed or encrypted whatever the consent (empty: nothing to do). */
  fields: FieldPolicy[];
  /** How long an erased profile's identifiers are refused at ingestion (0: not refused). */
  suppressForMs: number;
}

export interface GateOutcome {
  /** Per call: what may be stored, null when dropped (refused, not granted, or a repeat). */
  messages: Array<Message | null>;
  /** Per call: the identifiers it may be resolved by (one only when nothing beyond necessary is granted). */
  keys: IdentityKey[][];
  /** Per call: the consent it carried, to record on the profile. */
  consent: Array<ConsentChange | null>;
}

/** How an identifier is kept in the suppression list: hashed when a hasher is configured. */
export function suppressionKey(key: IdentityKey, hash: ((value: string) => string) | undefined): string {
  const k = identityKeyString(key);
  return hash ? memoizedHash(hash, k) : k;
}

/**
 * The consent gate of one ingestion group, before identity resolution: calls naming an erased
 * identifier are refused while it is suppressed; the others are kept, reduced or dropped by
 * the visitor's grants (the call's `context.consent`, else what their profile holds).
 */
export async function gateGroup(
  tx: StoreTx,
  messages: Message[],
  isNew: boolean[],
  rawKeys: IdentityKey[][],
  names: string[],
  privacy: IngestPrivacy,
  identity: IdentityConfig,
  storedConsent: (keys: IdentityKey[]) => ConsentState | undefined,
  now: number,
): Promise<GateOutcome> {
  const suppressed = new Set<string>();
  // An identifier erased before its type was protected is suppressed in its plain form.
  const plainKeys = identity.blindIndex && privacy.suppressForMs > 0 ? messages.map((m, i) => (isNew[i] ? plainProtectedIdentifiers(m, identity) : [])) : [];
  if (privacy.suppressForMs > 0) {
    const all = new Set<string>();
    for (const [i, keys] of rawKeys.entries()) if (isNew[i]) for (const k of [...keys, ...(plainKeys[i] ?? [])]) all.add(suppressionKey(k, privacy.hash));
    for (const m of messages) if (m.type === 'alias') all.add(suppressionKey({ type: 'userId', value: m.previousId }, privacy.hash));
    if (all.size > 0) for (const k of await tx.suppressed([...all], now)) suppressed.add(k);
  }
  const out: GateOutcome = { messages: [], keys: [], consent: [] };
  for (const [i, m] of messages.entries()) {
    const keys = rawKeys[i] ?? [];
    if (!isNew[i]) {
      out.messages.push(null);
      out.keys.push([]);
      out.consent.push(null);
      continue;
    }
    const isSuppressed = (k: IdentityKey) => suppressed.has(suppressionKey(k, privacy.hash));
    const refused =
      keys.some(isSuppressed) || (plainKeys[i] ?? []).some(isSuppressed) || (m.type === 'alias' && isSuppressed({ type: 'userId', value: m.previousId }));
    if (refused) {
      out.messages.push(null);
      out.keys.push([]);
      out.consent.push(null);
      continue;
    }
    const incoming = consentOfContext(m.context, privacy.consent);
    const grants = effectiveGrants(storedConsent(keys)?.purposes, incoming, privacy.consent);
    const gated = gateMessage(m, names[i] as string, grants, privacy.consent, privacy.hash, privacy.cipher);
    // Without consent beyond necessary, nothing is stitched: no alias, one identifier per call.
    const kept = gated.message && gated.message.type === 'alias' && !gated.stitch ? null : gated.message;
    const stored = kept && privacy.fields.length > 0 ? protectFields(kept, privacy.fields, privacy) : kept;
    // Identifiers come from the call as the consent gate kept it, before field protection: a
    // protected email or phone still links, by its blind index (extractIdentifiers), never in clear.
    const keptKeys = kept === m ? keys : kept ? extractIdentifiers(kept, identity) : [];
    out.messages.push(stored);
    out.keys.push(gated.stitch ? keptKeys : oneIdentifier(keptKeys));
    out.consent.push(incoming ? { purposes: incoming, at: Date.parse(m.timestamp), source: `event:${m.messageId}` } : null);
  }
  return out;
}

/** The anonymous id when there is one (it names a browser, not a person), else the strongest. */
function oneIdentifier(keys: IdentityKey[]): IdentityKey[] {
  const anon = keys.find((k) => k.type === 'anonymousId');
  const first = anon ?? keys[0];
  return first ? [first] : [];
}
