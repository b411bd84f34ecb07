import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The golden layouts, Layout Service JSON: `<route>.<language>.json`. */
export function loadFixtures(): Array<{ file: string; route: string; language: string; layout: LayoutServiceData }> {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const [route, language] = file.replace(/\.json$/, '').split(/\.(.+)/) as [string, string];
      return { file, route, language, layout: JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as LayoutServiceData };
    });
}

export function fixture(route: string, language: string): LayoutServiceData {
  const f = loadFixtures().find((x) => x.route === route && x.language === language);
  if (!f) throw new Error(`no fixture ${route}.${language}.json`);
  return f.layout;
}

// The ids the fixtures use.
export const HOME_PAGE_ID = '45be1451-fa83-5f80-9f0d-d7457b480b58';
export const BIKES_PAGE_ID = '1e9b6a3c-7d2f-5e84-b1c0-93a4d5e6f708';
export const CYCLISTS = 'd3bd5d5a8c1e4a8f9f0c6e1b2a3c4d5e';
export const COMMUTERS = '8a1f0e2d3c4b4a59b6c7d8e9f0a1b2c3';
export const MTB = '2c7e9a1b5d3f4e6a8b0c1d2e3f4a5b6c';
export const CTA_B = 'c0a801647d1f4b8e9a2b3c4d5e6f7a8b_5e1d2c3b4a594f8e8d7c6b5a49382716';
export const CTA_C = 'c0a801647d1f4b8e9a2b3c4d5e6f7a8b_9f8e7d6c5b4a43928170f6e5d4c3b2a1';
export const HERO_AB_B = 'a4b3c2d1e0f94a8b9c7d6e5f4a3b2c1d_0d1c2b3a49584f6e8d7c6b5a4f3e2d1c';
