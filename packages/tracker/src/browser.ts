/**
 * The script-tag build: reads the options the head snippet left (or the script tag's data-*
 * attributes), replays the calls made before it loaded, and replaces the stub with the tracker.
 */
import { type Consent, createTracker, type Tracker, type TrackerOptions } from './tracker.ts';

type Call = [string, ...unknown[]];
type Stub = Call[] & { _options?: TrackerOptions };

const w = window as unknown as { attune?: Stub | Tracker };
const stub = Array.isArray(w.attune) ? w.attune : undefined;
const tag = document.currentScript as HTMLScriptElement | null;
const data = tag?.dataset ?? {};
const options: TrackerOptions = stub?._options ?? {
  writeKey: data.writeKey ?? '',
  ...(data.apiHost ? { apiHost: data.apiHost } : {}),
  ...(data.consentRequired === 'true' ? { consent: { required: true } } : {}),
  ...(data.autoPage === 'false' ? { autoPage: false } : {}),
};
const tracker = createTracker(options);
for (const [method, ...args] of stub ?? []) {
  if (method === 'consent.set') tracker.consent.set(args[0] as Partial<Consent>);
  else (tracker as unknown as Record<string, (...a: unknown[]) => void>)[method]?.(...args);
}
w.attune = tracker;
dispatchEvent(new CustomEvent('attune:ready', { detail: tracker }));
