import { describe, expect, it } from 'vitest';
import { compileGoals, EXPOSURES_METRIC, recordDecisionEvent, type StatDelta } from '../decisions/exposures.ts';
import { newProfile } from '../profiles/types.ts';
import { parseMessageOrThrow } from '../protocol/parse.ts';
import { effectiveGrants, gateMessage, grantsFromCategories, parseConsentConfig, recordConsent } from './consent.ts';
import { maskIdentifier, statWithdrawals } from './erasure.ts';

const parse = (raw: unknown) => parseMessageOrThrow(raw, undefined, { receivedAt: 0, newId: () => 'id' });

describe('consent policy', () => {
  const config = parseConsentConfig({
    categories: { Advertising: 'marketing' },
    events: {
      '*': { purpose: 'analytics', otherwise: 'reduce', fields: { 'properties.email': { purpose: 'marketing', otherwise: 'hash' } } },
    },
  });

  it('maps consent-platform categories to purposes and fills the rest by what is known', () => {
    expect(grantsFromCategories({ Advertising: true, ANALYTICS: false, Unknown: true, personalization: 'yes' }, config)).toEqual({ marketing: true, analytics: false });
    expect(effectiveGrants(null, null, config)).toEqual({ necessary: true, analytics: true, personalization: true, marketing: true });
    expect(effectiveGrants(null, { analytics: true }, config)).toEqual({ necessary: true, analytics: true, personalization: false, marketing: false });
    expect(effectiveGrants({ marketing: true }, { analytics: false }, config)).toEqual({ necessary: true, analytics: false, personalization: false, marketing: true });
    expect(effectiveGrants(null, null, parseConsentConfig({ unknown: 'necessary' }))).toEqual({ necessary: true, analytics: false, personalization: false, marketing: false });
  });

  it('keeps, reduces and hashes per rule, and says whether identifiers may be stitched', () => {
    const m = parse({ type: 'track', event: 'Signup', anonymousId: 'a', userId: 'u', properties: { email: 'a@b.c', plan: 'pro' }, context: { ip: '1.2.3.4', consent: { categoryPreferences: { Analytics: true } } } });
    const hash = (v: string) => `#${v.length}`;
    const kept = gateMessage(m, 'Signup', { necessary: true, analytics: true, marketing: false }, config, hash);
    expect(kept.stitch).toBe(true);
    expect((kept.message as { properties: unknown }).properties).toEqual({ email: '#5', plan: 'pro' });
    const reduced = gateMessage(m, 'Signup', { necessary: true, analytics: false, marketing: false }, config, hash);
    expect(reduced.stitch).toBe(false);
    expect((reduced.message as { properties: unknown; context: unknown }).properties).toEqual({ email: '#5' });
    expect((reduced.message as { context: unknown }).context).toEqual({ consent: { categoryPreferences: { Analytics: true } } });
    // The original call is never changed.
    expect((m as { properties: unknown }).properties).toEqual({ email: 'a@b.c', plan: 'pro' });
    expect(() => gateMessage(m, 'Signup', { necessary: true }, config, undefined)).toThrow(/hasher/);
  });

  it('refuses a policy naming undeclared purposes, saying where', () => {
    expect(() => parseConsentConfig({ events: { '*': { purpose: 'ads' } } })).toThrow(/privacy\.consent\.events\.\*\.purpose: unknown purpose "ads"/);
    expect(() => parseConsentConfig({ purposes: ['Bad Name'] })).toThrow(/privacy\.consent\.purposes/);
  });

  it('records a change in the history only when it changes what is granted', () => {
    const a = recordConsent(undefined, { purposes: { analytics: true }, at: 1, source: 'api' }, config);
    expect(recordConsent(a, { purposes: { analytics: true }, at: 2, source: 'api' }, config)).toBe(a);
    const b = recordConsent(a, { purposes: { analytics: false }, at: 3, source: 'cmp' }, config);
    expect(b.history.map((h) => h.source)).toEqual(['api', 'cmp']);
    expect(b.purposes).toEqual({ necessary: true, analytics: false });
  });
});

describe('erasure helpers', () => {
  it('withdraws exactly what a profile added to experiment statistics', () => {
    const goals = compileGoals([{ id: 'x', status: 'running', goals: [{ id: 'rev', event: 'Order Completed', valueProperty: 'total' }] } as never], 'v');
    const p = newProfile('p', 0);
    const added: StatDelta[] = [];
    recordDecisionEvent(p, { name: 'Experiment Viewed', timestamp: 1, properties: { experiment_id: 'x', variation_id: 'b' } }, goals, added);
    recordDecisionEvent(p, { name: 'Order Completed', timestamp: 2, properties: { total: 30 } }, goals, added);
    recordDecisionEvent(p, { name: 'Order Completed', timestamp: 3, properties: { total: 12 } }, goals, added);
    const sum = new Map<string, { count: number; sum: number; sumSquares: number }>();
    for (const d of [...added, ...statWithdrawals(p)]) {
      const k = `${d.variant}/${d.metric}`;
      const row = sum.get(k) ?? { count: 0, sum: 0, sumSquares: 0 };
      row.count += d.count;
      row.sum += d.sum;
      row.sumSquares += d.sumSquares;
      sum.set(k, row);
    }
    expect([...sum.keys()].sort()).toEqual([`b/${EXPOSURES_METRIC}`, 'b/rev']);
    for (const row of sum.values()) expect(row).toEqual({ count: 0, sum: 0, sumSquares: 0 });
  });

  it('masks identifiers on receipts', () => {
    expect(maskIdentifier('ada@example.com')).toBe('a***@example.com');
    expect(maskIdentifier('u-123456')).toBe('u-***56');
    expect(maskIdentifier('abc')).toBe('***');
  });
});
