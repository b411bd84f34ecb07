import type { Random } from './random.ts';

/** Who the demo visitors are and what they browse with: static lists and device factories. */

export type DeviceKind =
  | 'iphone-safari'
  | 'ipad-safari'
  | 'android-chrome'
  | 'windows-chrome'
  | 'windows-edge'
  | 'windows-firefox'
  | 'mac-safari'
  | 'mac-chrome'
  | 'ios-app'
  | 'android-app';

export interface DemoDevice {
  kind: DeviceKind;
  app: boolean;
  /** Replaced after Signed Out, as analytics.js `reset()` does. */
  anonymousId: string;
  /** Every anonymousId this device has had. */
  anonymousIds: string[];
  signedIn: boolean;
  cartId: string;
  /** Context fields every call from this device carries. */
  context: Record<string, unknown>;
}

const IOS_VERSIONS = ['16_7', '17_4', '17_5', '17_6', '18_0', '18_1'];
const ANDROID_MODELS = ['Pixel 8', 'Pixel 7a', 'SM-S918B', 'SM-A546B', 'moto g84 5G', 'CPH2581'];
const CHROME_VERSIONS = ['124.0.6367.207', '125.0.6422.113', '126.0.6478.122', '127.0.6533.88', '128.0.6613.84'];
const FIREFOX_VERSIONS = ['126.0', '127.0', '128.0', '129.0'];
const IPHONE_MODELS = ['iPhone14,5', 'iPhone15,2', 'iPhone15,4', 'iPhone16,1', 'iPhone16,2'];

export const WEB_DEVICE_KINDS: readonly DeviceKind[] = [
  'iphone-safari',
  'android-chrome',
  'windows-chrome',
  'mac-safari',
  'mac-chrome',
  'windows-edge',
  'ipad-safari',
  'windows-firefox',
];
export const WEB_DEVICE_WEIGHTS: readonly number[] = [28, 24, 16, 10, 8, 5, 5, 4];

function userAgent(kind: DeviceKind, rng: Random): string {
  const ios = rng.pick(IOS_VERSIONS);
  const safari = ios.replace('_', '.');
  const chrome = rng.pick(CHROME_VERSIONS);
  const chromeMajor = `${chrome.split('.')[0]}.0.0.0`;
  switch (kind) {
    case 'iphone-safari':
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Mobile/15E148 Safari/604.1`;
    case 'ipad-safari':
      return `Mozilla/5.0 (iPad; CPU OS ${ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Mobile/15E148 Safari/604.1`;
    case 'android-chrome':
      return `Mozilla/5.0 (Linux; Android ${rng.pick(['13', '14', '15'])}; ${rng.pick(ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Mobile Safari/537.36`;
    case 'windows-chrome':
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor} Safari/537.36`;
    case 'windows-edge':
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor} Safari/537.36 Edg/${chromeMajor}`;
    case 'windows-firefox': {
      const ff = rng.pick(FIREFOX_VERSIONS);
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${ff}) Gecko/20100101 Firefox/${ff}`;
    }
    case 'mac-safari':
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${rng.pick(['17.5', '17.6', '18.0', '18.1'])} Safari/605.1.15`;
    case 'mac-chrome':
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor} Safari/537.36`;
    default:
      throw new Error(`${kind} is an app, not a browser`);
  }
}

const IP_FIRST_OCTETS = [31, 37, 46, 62, 77, 80, 81, 84, 85, 88, 90, 91, 92, 94, 109, 145, 151, 176, 178, 185, 188, 212, 213, 217];

function ipAddress(rng: Random): string {
  return `${rng.pick(IP_FIRST_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

export interface Locale {
  locale: string;
  timezone: string;
}

export const LOCALES: readonly Locale[] = [
  { locale: 'en-US', timezone: 'America/New_York' },
  { locale: 'en-GB', timezone: 'Europe/London' },
  { locale: 'de-DE', timezone: 'Europe/Berlin' },
  { locale: 'fr-FR', timezone: 'Europe/Paris' },
  { locale: 'nl-NL', timezone: 'Europe/Amsterdam' },
  { locale: 'sv-SE', timezone: 'Europe/Stockholm' },
  { locale: 'es-ES', timezone: 'Europe/Madrid' },
];

export function createDevice(kind: DeviceKind, rng: Random, locale: Locale): DemoDevice {
  const anonymousId = rng.uuid();
  const common = { ip: ipAddress(rng), locale: locale.locale, timezone: locale.timezone };
  let context: Record<string, unknown>;
  if (kind === 'ios-app' || kind === 'android-app') {
    const ios = kind === 'ios-app';
    const osVersion = ios ? rng.pick(IOS_VERSIONS).replace('_', '.') : rng.pick(['13', '14', '15']);
    context = {
      ...common,
      app: { name: 'Attune Shop', version: '3.4.1', build: '341', namespace: 'com.example.shop' },
      device: ios
        ? { id: rng.uuid(), type: 'ios', manufacturer: 'Apple', model: rng.pick(IPHONE_MODELS), name: 'iPhone' }
        : { id: rng.uuid(), type: 'android', manufacturer: rng.pick(['Google', 'Samsung', 'Motorola']), model: rng.pick(ANDROID_MODELS) },
      os: { name: ios ? 'iOS' : 'Android', version: osVersion },
      screen: ios ? { width: 390, height: 844, density: 3 } : { width: 412, height: 915, density: 2.625 },
      network: { wifi: rng.chance(0.6), carrier: rng.pick(['Vodafone', 'Telekom', 'Orange', 'T-Mobile', 'O2']) },
      library: { name: ios ? 'analytics-ios' : 'analytics-android', version: '4.1.8' },
    };
  } else {
    context = { ...common, userAgent: userAgent(kind, rng), library: { name: 'analytics.js', version: 'npm:next-1.70.0' } };
  }
  return {
    kind,
    app: kind === 'ios-app' || kind === 'android-app',
    anonymousId,
    anonymousIds: [anonymousId],
    signedIn: false,
    cartId: `cart-${rng.hex(12)}`,
    context,
  };
}

export const FIRST_NAMES = [
  'Liam', 'Emma', 'Noah', 'Olivia', 'Lucas', 'Mia', 'Elias', 'Sofia', 'Leon', 'Hannah', 'Finn', 'Ella',
  'Jonas', 'Clara', 'Oskar', 'Lea', 'Matteo', 'Nora', 'Hugo', 'Alice', 'Theo', 'Zoe', 'Adam', 'Ines',
  'Felix', 'Maja', 'Milan', 'Freya', 'Samuel', 'Ida', 'Luca', 'Amelie', 'Arthur', 'Chloe', 'Jakob', 'Lina',
  'Omar', 'Aisha', 'Ravi', 'Priya', 'Kenji', 'Yuki', 'Mateo', 'Lucia',
];

export const LAST_NAMES = [
  'Müller', 'Schmidt', 'Dubois', 'Martin', 'de Vries', 'Jansen', 'Andersson', 'Johansson', 'García', 'López',
  'Rossi', 'Bianchi', 'Smith', 'Jones', 'Brown', 'Wilson', 'Novak', 'Kowalski', 'Nielsen', 'Hansen', 'Bauer',
  'Wagner', 'Lefèvre', 'Moreau', 'Berg', 'Lindqvist', 'Silva', 'Costa', 'Khan', 'Patel', 'Tanaka', 'Sato',
];

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com'];

/** Lower-case ASCII for e-mail local parts: "Lefèvre" → "lefevre". */
export function asciiName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, '');
}

export interface DemoCompany {
  id: string;
  name: string;
  industry: string;
  employees: number;
  website: string;
}

export const COMPANIES: readonly DemoCompany[] = [
  { id: 'acct-acme-outfitters', name: 'Acme Outfitters', industry: 'Retail', employees: 120, website: 'acme-outfitters.example' },
  { id: 'acct-bergstrom-logistics', name: 'Bergström Logistics AB', industry: 'Logistics', employees: 640, website: 'bergstrom.example' },
  { id: 'acct-cobalt-events', name: 'Cobalt Events GmbH', industry: 'Events', employees: 45, website: 'cobalt-events.example' },
  { id: 'acct-delta-hotels', name: 'Delta Hotel Group', industry: 'Hospitality', employees: 2300, website: 'delta-hotels.example' },
  { id: 'acct-evergreen-schools', name: 'Evergreen Schools Trust', industry: 'Education', employees: 880, website: 'evergreen.example' },
  { id: 'acct-fjord-construction', name: 'Fjord Construction AS', industry: 'Construction', employees: 310, website: 'fjord-construction.example' },
  { id: 'acct-granite-health', name: 'Granite Health Clinics', industry: 'Healthcare', employees: 1500, website: 'granite-health.example' },
  { id: 'acct-harbor-tours', name: 'Harbor Tours BV', industry: 'Travel', employees: 75, website: 'harbor-tours.example' },
  { id: 'acct-ionic-labs', name: 'Ionic Labs SAS', industry: 'Technology', employees: 210, website: 'ionic-labs.example' },
  { id: 'acct-juniper-sports', name: 'Juniper Sports Club', industry: 'Sports', employees: 60, website: 'juniper-sports.example' },
  { id: 'acct-kestrel-security', name: 'Kestrel Security Ltd', industry: 'Security', employees: 540, website: 'kestrel.example' },
  { id: 'acct-lumen-studios', name: 'Lumen Studios', industry: 'Media', employees: 95, website: 'lumen-studios.example' },
];

export interface DemoCampaign {
  name: string;
  source: string;
  medium: string;
  content?: string;
  term?: string;
  /** The category the campaign advertises; undefined lands on the home page. */
  category?: string;
}

export const CAMPAIGNS: readonly DemoCampaign[] = [
  { name: 'spring_sale', source: 'google', medium: 'cpc', term: 'running shoes', category: 'Shoes' },
  { name: 'winter_outerwear', source: 'facebook', medium: 'paid_social', content: 'carousel_parka', category: 'Outerwear' },
  { name: 'newsletter_weekly', source: 'newsletter', medium: 'email' },
  { name: 'cart_reminder', source: 'newsletter', medium: 'email', content: 'reminder_1' },
  { name: 'influencer_trail', source: 'instagram', medium: 'social', content: 'story', category: 'Outdoor' },
  { name: 'tech_week', source: 'google', medium: 'cpc', term: 'wireless earbuds', category: 'Electronics' },
  { name: 'brand_search', source: 'bing', medium: 'cpc', term: 'attune shop' },
  { name: 'back_to_work', source: 'linkedin', medium: 'paid_social', category: 'Bags' },
];

export const ORGANIC_REFERRERS = [
  'https://www.google.com/',
  'https://www.google.com/',
  'https://duckduckgo.com/',
  'https://www.bing.com/',
  'https://www.instagram.com/',
  'https://www.pinterest.com/',
  '',
  '',
  '',
];

/** Relative traffic per hour of the day (UTC): quiet nights, a lunch bump, a busy evening. */
export const HOURLY_RHYTHM: readonly number[] = [
  1.2, 0.6, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 3.5, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 6, 7, 7.5, 6.5, 4.5, 2.5,
];
