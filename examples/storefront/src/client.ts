/**
 * The storefront's browser script: the consent banner, and the taxonomy's events for what the
 * visitor does (the tracker itself sends page views). Forms wait for their event to be sent.
 */
interface TrackerApi {
  track(event: string, properties?: Record<string, unknown>): void;
  identify(userId?: string | null, traits?: Record<string, unknown>): void;
  reset(): void;
  flush(): Promise<void>;
  consent: { set(c: Record<string, boolean>): void; get(): Record<string, boolean> };
}

function whenReady(fn: (t: TrackerApi) => void): void {
  const current = (window as unknown as { attune?: unknown }).attune;
  if (current && !Array.isArray(current)) fn(current as TrackerApi);
  else addEventListener('attune:ready', (e) => fn((e as CustomEvent<TrackerApi>).detail), { once: true });
}

function setConsent(accepted: boolean): void {
  document.cookie = `shop_consent=${accepted ? 'accepted' : 'declined'}; Path=/; Max-Age=31536000; SameSite=Lax`;
  whenReady((t) => {
    t.consent.set({ analytics: accepted, personalization: accepted, marketing: accepted });
    void t.flush().then(() => location.reload());
  });
}

document.getElementById('consent-accept')?.addEventListener('click', () => setConsent(true));
document.getElementById('consent-decline')?.addEventListener('click', () => setConsent(false));

whenReady((t) => {
  const pageEvent = document.getElementById('page-event')?.textContent;
  const parsed = pageEvent ? (JSON.parse(pageEvent) as { event: string; properties: Record<string, unknown> } | null) : null;
  if (parsed) t.track(parsed.event, parsed.properties);
  const signedIn = document.body.dataset.signedIn;
  if (signedIn) {
    t.identify(signedIn, { email: signedIn });
    t.track('Signed In', { method: 'email' });
  }
});

// Forms and buttons that are events: data-track="Event Name" data-props='{"…":…}'.
for (const el of document.querySelectorAll<HTMLElement>('[data-track]')) {
  const send = async (event?: Event) => {
    const form = el instanceof HTMLFormElement ? el : null;
    if (form) event?.preventDefault();
    await new Promise<void>((done) =>
      whenReady(async (t) => {
        const props = JSON.parse(el.dataset.props ?? '{}') as Record<string, unknown>;
        if (el.dataset.track === 'Signed Out') {
          t.track('Signed Out', {});
          await t.flush();
          t.reset();
        } else t.track(el.dataset.track as string, props);
        await Promise.race([t.flush(), new Promise((r) => setTimeout(r, 1000))]);
        done();
      }),
    );
    form?.submit();
  };
  if (el instanceof HTMLFormElement) el.addEventListener('submit', (e) => void send(e));
  else el.addEventListener('click', () => void send());
}
