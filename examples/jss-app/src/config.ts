/**
 * The example site's personalization in Attune, keyed by the Sitecore variant ids of its layouts:
 * trail riders and commuters (audiences from what they browsed) get their home page variant, trail
 * riders the mountain variant of /bikes, and the home page's call to action is an A/B/C test.
 */
import { componentTest, variantExperience } from '@attune/sitecore-jss';

export const IDS = {
  homePage: '45be1451-fa83-5f80-9f0d-d7457b480b58',
  bikesPage: '1e9b6a3c-7d2f-5e84-b1c0-93a4d5e6f708',
  cyclists: 'd3bd5d5a8c1e4a8f9f0c6e1b2a3c4d5e',
  commuters: '8a1f0e2d3c4b4a59b6c7d8e9f0a1b2c3',
  mountain: '2c7e9a1b5d3f4e6a8b0c1d2e3f4a5b6c',
  ctaB: 'c0a801647d1f4b8e9a2b3c4d5e6f7a8b_5e1d2c3b4a594f8e8d7c6b5a49382716',
  ctaC: 'c0a801647d1f4b8e9a2b3c4d5e6f7a8b_9f8e7d6c5b4a43928170f6e5d4c3b2a1',
};

export const SEGMENT_GROUP = { id: 'riding', name: 'Riding' };

const viewed = (category: string) => ({ did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: category }] } });

export const AUDIENCES = [
  { id: 'trail-riders', groupId: 'riding', name: 'Viewed mountain bikes', condition: viewed('Mountain') },
  { id: 'commuters', groupId: 'riding', name: 'Viewed city bikes', condition: viewed('City') },
];

export const TEST_RIDE_EVENT = 'Test Ride Booked';

const ctaTest = componentTest({
  id: 'home-cta-test',
  name: 'Home call to action',
  variantIds: [IDS.ctaB, IDS.ctaC],
  goals: [{ id: 'test-ride', event: TEST_RIDE_EVENT }],
});

export const JSS_APP_CONFIG = {
  experiences: [
    variantExperience({ id: 'home-trail', name: 'Home for trail riders', pageId: IDS.homePage, variantId: IDS.cyclists, targeting: { audiences: ['trail-riders'] }, priority: 10 }),
    variantExperience({ id: 'home-commute', name: 'Home for commuters', pageId: IDS.homePage, variantId: IDS.commuters, targeting: { audiences: ['commuters'] } }),
    variantExperience({ id: 'bikes-trail', name: 'Bikes for trail riders', pageId: IDS.bikesPage, variantId: IDS.mountain, targeting: { audiences: ['trail-riders'] } }),
    ctaTest.experience,
  ],
  experiments: [ctaTest.experiment],
};

/** Creates the audiences (kept when they exist) and applies the decisions configuration. */
export async function configureAttune(attuneUrl: string, secretKey: string): Promise<void> {
  const send = async (method: string, path: string, body: unknown, okStatuses: number[] = []) => {
    const res = await fetch(attuneUrl + path, { method, headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok && !okStatuses.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  };
  await send('POST', '/v1/segment-groups', SEGMENT_GROUP, [409]);
  for (const a of AUDIENCES) await send('POST', '/v1/audiences', a, [409]);
  await send('PUT', '/v1/config', JSS_APP_CONFIG);
}
