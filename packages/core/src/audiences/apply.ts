import type { OutboxWrite } from '../outbox.ts';
import type { ProfileRecord } from '../profiles/types.ts';
import type { Message } from '../protocol/segment.ts';
import type { MembershipChange, ScheduledCheck, StoredEvent, StoreTx } from '../store.ts';
import { type CompiledAudiences, evaluateAudiences, type ProfileChanges } from './compiled.ts';

export const AUDIENCE_ENTERED = 'Audience Entered';
export const AUDIENCE_EXITED = 'Audience Exited';

export const MEMBERSHIP_TOPIC = 'audience.membership';

export interface AudienceWrites {
  events: StoredEvent[];
  memberships: MembershipChange[];
  checks: ScheduledCheck[];
  /** One outbox entry per entry or exit, for activations. */
  outbox: OutboxWrite[];
}

/** Writes what applyAudiences decided, in the caller's transaction (events go with the caller's own). */
export async function persistAudienceWrites(tx: StoreTx, writes: AudienceWrites, options: { events: boolean }): Promise<void> {
  if (options.events && writes.events.length > 0) await tx.appendEvents(writes.events);
  if (writes.memberships.length > 0) await tx.applyMemberships(writes.memberships);
  if (writes.checks.length > 0) await tx.scheduleChecks(writes.checks);
  if (writes.outbox.length > 0) await tx.appendOutbox(writes.outbox);
}

/**
 * Re-evaluates the audiences of loaded (and locked) profiles at `now`, updating each
 * profile's membership in place. Entries and exits become events on the profile and
 * membership rows; each profile gets its next check. `at` is when the changes happened
 * (a scheduled exit happened at its due time, even if processed later).
 */
export function applyAudiences(
  profiles: Iterable<ProfileRecord>,
  compiled: CompiledAudiences,
  now: number,
  at: (profile: ProfileRecord) => number = () => now,
  /** What changed per profile since its last evaluation; without it every audience is evaluated. */
  changes?: (profile: ProfileRecord) => ProfileChanges | undefined,
): AudienceWrites {
  const writes: AudienceWrites = { events: [], memberships: [], checks: [], outbox: [] };
  const names = byId(compiled);
  for (const profile of profiles) {
    const when = at(profile);
    if (profile.mergedInto !== null) {
      // A merged-away profile leaves everything; the survivor is evaluated on its own.
      for (const id of Object.keys(profile.audiences)) {
        writes.memberships.push({ audienceId: id, profileId: profile.id, since: null });
        writes.outbox.push(membershipFact(id, profile.id, 'exited', when, now, profile.mergedInto));
      }
      profile.audiences = {};
      if (profile.nextCheckAt !== null) writes.checks.push({ profileId: profile.id, at: null });
      profile.nextCheckAt = null;
      continue;
    }
    if (compiled.audiences.length === 0 && Object.keys(profile.audiences).length === 0) continue;
    const outcome = evaluateAudiences(profile, compiled, now, changes?.(profile));
    for (const id of outcome.entered) {
      outcome.members[id] = when;
      writes.memberships.push({ audienceId: id, profileId: profile.id, since: when });
      writes.events.push(membershipEvent(profile.id, AUDIENCE_ENTERED, id, names.get(id)?.name, names.get(id)?.groupId, when, now));
      writes.outbox.push(membershipFact(id, profile.id, 'entered', when, now));
    }
    for (const id of outcome.exited) {
      writes.memberships.push({ audienceId: id, profileId: profile.id, since: null });
      writes.events.push(membershipEvent(profile.id, AUDIENCE_EXITED, id, names.get(id)?.name, names.get(id)?.groupId, when, now));
      writes.outbox.push(membershipFact(id, profile.id, 'exited', when, now));
    }
    profile.audiences = outcome.members;
    // The schedule row changes only when the time does.
    if (profile.nextCheckAt !== outcome.nextCheckAt) writes.checks.push({ profileId: profile.id, at: outcome.nextCheckAt });
    profile.nextCheckAt = outcome.nextCheckAt;
  }
  return writes;
}

const definitions = new WeakMap<CompiledAudiences, Map<string, CompiledAudiences['audiences'][number]>>();

/** The audiences by id, built once per compiled set (a recompute applies it once per profile). */
function byId(compiled: CompiledAudiences) {
  let names = definitions.get(compiled);
  if (names === undefined) {
    names = new Map(compiled.audiences.map((a) => [a.id, a]));
    definitions.set(compiled, names);
  }
  return names;
}

function membershipEvent(
  profileId: string,
  name: string,
  audienceId: string,
  audienceName: string | undefined,
  groupId: string | undefined,
  at: number,
  receivedAt: number,
): StoredEvent {
  const kind = name === AUDIENCE_ENTERED ? 'entered' : 'exited';
  const message = {
    type: 'track',
    event: name,
    messageId: `audience:${audienceId}:${profileId}:${kind}:${at}`,
    anonymousId: profileId,
    timestamp: new Date(at).toISOString(),
    receivedAt: new Date(receivedAt).toISOString(),
    context: { channel: 'attune' },
    properties: {
      audience_id: audienceId,
      ...(audienceName !== undefined ? { audience_name: audienceName } : {}),
      ...(groupId !== undefined ? { segment_group_id: groupId } : {}),
    },
  } as unknown as Message;
  return { messageId: message.messageId, profileId, type: 'track', name, timestamp: at, receivedAt, message };
}

/** The activation payload of one entry or exit; `id` is stable, for receivers to deduplicate. */
export function membershipFact(
  audienceId: string,
  profileId: string,
  change: 'entered' | 'exited',
  at: number,
  now: number,
  mergedInto?: string | null,
): OutboxWrite {
  return {
    topic: MEMBERSHIP_TOPIC,
    key: profileId,
    createdAt: now,
    payload: {
      id: `${audienceId}:${profileId}:${change}:${at}`,
      audienceId,
      profileId,
      change,
      at: new Date(at).toISOString(),
      ...(mergedInto ? { mergedInto } : {}),
    },
  };
}
