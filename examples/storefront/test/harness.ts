import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, silentLogger } from '@attune/core';
import { type StartedServer, startServer } from '@attune/server';
import { createDemoAudiences } from '@attune/server/demo';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createStorefront, type StorefrontOptions } from '../src/app.ts';
import { STOREFRONT_CONFIG } from '../src/config.ts';

export const SECRET_KEY = 'sk_storefront_test_0123456789abcdef';
export const WRITE_KEY = 'wk_storefront_test_0123456789abcdef';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');

/** A clock the test moves forward: the engine's audience windows follow it. */
export function controlledClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let offset = start - Date.now();
  return {
    now: () => Date.now() + offset,
    defer: (fn) => setImmediate(fn),
    advance(ms) {
      offset += ms;
    },
  };
}

export interface Shop {
  attune: StartedServer;
  attuneUrl: string;
  shopUrl: string;
  clock: ReturnType<typeof controlledClock>;
  close(): Promise<void>;
}

/** Attune (embedded store, controlled clock, demo audiences, storefront config) and the storefront. */
export async function startShop(options: Partial<Omit<StorefrontOptions, 'attuneServerUrl'>> & { attuneVia?: () => string } = {}): Promise<Shop> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-shop-'));
  const clock = controlledClock();
  const attune = await startServer({ port: 0, host: '127.0.0.1', dataDir, secretKey: SECRET_KEY, writeKey: WRITE_KEY, logger: silentLogger, clock, audienceCheckMs: 100 });
  await createDemoAudiences(attune.engine);
  await attune.engine.decisions.apply(STOREFRONT_CONFIG);
  const { attuneVia, ...storefrontOptions } = options;
  const app = await createStorefront({
    attuneUrl: attune.url,
    writeKey: WRITE_KEY,
    secretKey: SECRET_KEY,
    ...(attuneVia ? { attuneServerUrl: attuneVia() } : {}),
    ...storefrontOptions,
  });
  const server: Server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const shopUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    attune,
    attuneUrl: attune.url,
    shopUrl,
    clock,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await attune.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, driven by playwright-core (test tools cannot download browsers here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function acceptConsent(context: BrowserContext, shopUrl: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(shopUrl);
  await Promise.all([page.waitForEvent('load'), page.click('#consent-accept')]);
  return page;
}

export async function admin<T = Record<string, unknown>>(shop: Shop, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(shop.attuneUrl + path, { ...init, headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export { eventually } from '@attune/test-utils/process';

export async function anonymousIdOf(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === 'attune_aid')?.value;
}
