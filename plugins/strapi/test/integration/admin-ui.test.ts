import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BootedStrapi, bootStrapi, type Engine, enginePost, ensureAdminBuild, PLUGIN_DIR, startEngine } from './harness.ts';

const ARTIFACTS = join(PLUGIN_DIR, 'test-artifacts');

async function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('the plugin pages in the Strapi admin, in headless Chromium', () => {
  let engine: Engine;
  let app: BootedStrapi;
  let browser: Browser;
  let page: Page;
  let buyers = 1;

  beforeAll(async () => {
    ensureAdminBuild();
    engine = await startEngine();
    // Five visitors, three of whom viewed a product, one of whom also bought.
    const batch = [];
    for (let i = 0; i < 5; i++) batch.push({ type: 'identify', userId: `shopper-${i}`, traits: { plan: i === 0 ? 'gold' : 'free' } });
    for (let i = 0; i < 3; i++) batch.push({ type: 'track', userId: `shopper-${i}`, event: 'Product Viewed', properties: { sku: 'TS-1' } });
    batch.push({ type: 'track', userId: 'shopper-0', event: 'Order Completed', properties: { order_id: 'o-1', total: 120 } });
    expect((await enginePost(engine, '/v1/batch', { batch }, 'write')).status).toBe(200);
    // An experience with an A/B experiment, exposures from 80 visitors, and conversions that favour "trail".
    const content = (heading: string) => ({ hero: { content: { heading } } });
    expect(
      (await enginePost(engine, '/v1/experiences', { id: 'home-hero', name: 'Home hero', variants: [{ key: 'control', slots: content('Spring') }, { key: 'trail', slots: content('Trail') }] })).status,
    ).toBe(201);
    expect((await enginePost(engine, '/v1/experiments', { id: 'hero-test', name: 'Hero test', experienceId: 'home-hero', goals: [{ id: 'buy', event: 'Order Completed' }] })).status).toBe(201);
    const orders: unknown[] = [];
    for (let i = 0; i < 80; i++) {
      const r = await enginePost<{ decisions: Record<string, { variant: string }> }>(engine, '/v1/decide', { anonymousId: `v${i}`, context: { path: '/' }, slots: ['hero'] }, 'write');
      const variant = r.body.decisions.hero?.variant;
      if ((variant === 'trail' && i % 2 === 0) || (variant === 'control' && i % 5 === 0)) orders.push({ type: 'track', anonymousId: `v${i}`, event: 'Order Completed', properties: { order_id: `o${i}`, total: 50 } });
    }
    expect((await enginePost(engine, '/v1/batch', { batch: orders }, 'write')).status).toBe(200);
    buyers += orders.length;
    app = await bootStrapi({ engineUrl: engine.url, admin: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(30_000);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await engine?.close();
  });

  it('logs in and opens the plugin pages', async () => {
    await page.goto(`${app.url}/admin/auth/login`);
    await page.fill('input[name="email"]', 'admin@attune.local');
    await page.fill('input[name="password"]', 'Attune-demo-1');
    await page.click('button[type="submit"]');
    await page.waitForURL((u) => !u.pathname.includes('/auth/'));
    await page.goto(`${app.url}/admin/plugins/attune`);
    await page.getByRole('tab', { name: 'Audiences' }).waitFor();
    await shot(page, '01-attune-audiences');
    await page.getByRole('tab', { name: 'Experiences' }).click();
    await page.getByRole('gridcell', { name: 'Home hero', exact: true }).waitFor();
    await shot(page, '02-attune-experiences');
    await page.getByRole('tab', { name: 'Experiment results' }).click();
    await page.getByRole('combobox').click();
    await page.getByRole('option', { name: 'Hero test (hero-test)' }).click();
    await page.getByTestId('rate-chart').locator('.recharts-bar-rectangle').first().waitFor();
    expect(await page.getByTestId('beat-chart').locator('.recharts-bar-rectangle').count()).toBe(1);
    await page.getByRole('gridcell', { name: 'trail', exact: true }).waitFor();
    await shot(page, '03-experiment-results');
    await page.goto(`${app.url}/admin/settings/attune`);
    await page.getByRole('heading', { name: 'Engine connection' }).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByTestId('connection-result').textContent(), { timeout: 15_000 }).toContain('✓ secret key');
    // The secret is shown masked, never in full.
    expect(await page.locator('input[name="secretKey"]').inputValue()).toMatch(/^sk_••••/);
    await shot(page, '04-attune-settings');
  });

  it('builds an audience and sees its size', async () => {
    await page.goto(`${app.url}/admin/plugins/attune`);
    const size = page.getByTestId('audience-size');
    // The default condition: did "Product Viewed" in the last 30 days.
    // 5 shoppers and 80 anonymous visitors; 3 shoppers viewed a product.
    await expect.poll(() => size.textContent(), { timeout: 15_000 }).toContain('Estimated size: 3 of 85 profiles');
    await page.locator('input[name="event-0"]').fill('Order Completed');
    await expect.poll(() => size.textContent(), { timeout: 15_000 }).toContain(`Estimated size: ${buyers} of 85 profiles`);
    await page.locator('input[name="audience-id"]').fill('buyers');
    await page.locator('input[name="audience-name"]').fill('Buyers');
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.getByRole('gridcell', { name: 'buyers', exact: true }).waitFor();
    await shot(page, '05-audience-built');
  });

  it('runs an export now and shows its progress and history', async () => {
    await page.goto(`${app.url}/admin/settings/attune`);
    await page.getByRole('button', { name: 'Run now' }).first().click();
    await expect.poll(() => page.getByTestId('run-progress').textContent(), { timeout: 15_000 }).toMatch(/Run #\d+: succeeded/);
    await page.getByRole('gridcell', { name: 'succeeded', exact: false }).first().waitFor();
    await shot(page, '06-run-now');
  });

  it("sets a content type's exported fields", async () => {
    await page.goto(`${app.url}/admin/settings/attune`);
    const row = page.getByTestId('field-row-readingMinutes');
    await row.waitFor();
    await row.getByRole('checkbox', { name: 'export readingMinutes' }).click();
    await page.getByTestId('field-row-title').getByRole('textbox', { name: 'rename title' }).fill('headline');
    await page.getByRole('button', { name: 'Save exported fields' }).click();
    await expect.poll(() => page.getByTestId('field-rules-result').textContent(), { timeout: 15_000 }).toContain('Exported fields of article saved');
    await shot(page, '07-exported-fields');
    const settings = await app.strapi.plugin('attune').service('settings').get();
    expect(settings.fields.article.fields.readingMinutes).toMatchObject({ include: false });
    expect(settings.fields.article.fields.title).toMatchObject({ rename: 'headline' });
  });
});
