import type { Core } from '@strapi/strapi';
import { LEASE_UID } from '../content-types/index.ts';

/**
 * A named lease in the database: a row with a holder and an expiry. Taking it is one conditional
 * UPDATE (free, expired, or already ours), so of several Strapi instances sharing a database only
 * one runs an export at a time; a crashed holder's lease lapses after its time-to-live.
 */
export function createLeaseService(strapi: Core.Strapi, holder: string) {
  const q = () => strapi.db.query(LEASE_UID);
  return {
    holder,
    async acquire(name: string, ttlMs: number): Promise<boolean> {
      const now = new Date();
      const data = { holder, expiresAt: new Date(now.getTime() + ttlMs) };
      const taken = await q().updateMany({ where: { name, $or: [{ holder }, { holder: null }, { expiresAt: { $lt: now } }] }, data });
      if (taken.count === 1) return true;
      if (await q().findOne({ where: { name } })) return false;
      try {
        await q().create({ data: { name, ...data } });
        return true;
      } catch {
        // The unique name: another instance created the row first, and holds the lease.
        return false;
      }
    },
    async renew(name: string, ttlMs: number): Promise<boolean> {
      const r = await q().updateMany({ where: { name, holder }, data: { expiresAt: new Date(Date.now() + ttlMs) } });
      return r.count === 1;
    },
    async release(name: string): Promise<void> {
      await q().updateMany({ where: { name, holder }, data: { holder: null, expiresAt: null } });
    },
  };
}

export type LeaseService = ReturnType<typeof createLeaseService>;
