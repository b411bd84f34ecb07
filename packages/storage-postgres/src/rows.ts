import {
  type AccountRecord,
  type ApiKeyRecord,
  type ConfigDocument,
  type DeadLetter,
  type ProfileData,
  type ProfileRecord,
  profileDataOf,
  profileFromData,
  type StoredEvent,
} from '@attune/core';

/** Row shapes of the tables and their mapping to the port's records. */
export type Row = Record<string, unknown>;

export function identityString(key: { type: string; value: string }): string {
  return `${key.type}:${key.value}`;
}

export function profileData(p: ProfileRecord): string {
  return JSON.stringify(profileDataOf(p));
}

export function toProfile(row: Row): ProfileRecord {
  return profileFromData(
    {
      id: row.id as string,
      mergedInto: (row.merged_into as string | null) ?? null,
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    },
    row.data as Partial<ProfileData>,
  );
}

export function toEvent(row: Row): StoredEvent {
  return {
    messageId: row.message_id as string,
    profileId: row.profile_id as string,
    type: row.type as StoredEvent['type'],
    name: row.name as string,
    timestamp: row.ts as number,
    receivedAt: row.received_at as number,
    message: row.message as StoredEvent['message'],
  };
}

export function toAccount(row: Row): AccountRecord {
  return {
    id: row.id as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    traits: row.traits as Record<string, unknown>,
  };
}

export function toKey(row: Row): ApiKeyRecord {
  return {
    id: row.id as string,
    kind: row.kind as ApiKeyRecord['kind'],
    name: row.name as string,
    hash: row.hash as string,
    prefix: row.prefix as string,
    createdAt: row.created_at as number,
    revokedAt: (row.revoked_at as number | null) ?? null,
    ...(row.scope !== null && row.scope !== undefined ? { scope: row.scope as ApiKeyRecord['scope'] } : {}),
  };
}

export function toDoc(row: Row): ConfigDocument {
  return {
    kind: row.kind as string,
    id: row.id as string,
    body: row.body,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toDeadLetter(row: Row): DeadLetter {
  return {
    id: String(row.id),
    consumer: row.consumer as string,
    entry: row.entry as DeadLetter['entry'],
    error: row.error as string,
    attempts: Number(row.attempts),
    at: Number(row.at),
  };
}
