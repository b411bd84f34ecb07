import type { ResolvedSlot } from '@attune/render';
import { AttuneProvider, Personalize } from '@attune/render/react';

/** The React example: one component tree, rendered on the server and hydrated in the browser. */
export function ReactStorefront(props: { slots: Record<string, ResolvedSlot>; onExposure?: (event: string, properties: Record<string, string>) => void }) {
  return (
    <AttuneProvider slots={props.slots} onExposure={props.onExposure}>
      <main>
        <h1>React storefront</h1>
        <Personalize slot="promo" fallback={<p className="promo default">Free returns on every order</p>}>
          {(content) => <p className="promo personalized">{(content as { text: string }).text}</p>}
        </Personalize>
        <Counter />
      </main>
    </AttuneProvider>
  );
}

function Counter() {
  // Interactive after hydration: proves the client took over the server's markup.
  return (
    <button type="button" id="hydrated" onClick={(e) => ((e.target as HTMLButtonElement).textContent = 'clicked')}>
      click me
    </button>
  );
}
