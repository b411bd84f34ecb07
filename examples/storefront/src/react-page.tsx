import type { ResolvedSlot } from '@attune/render';
import { renderToString } from 'react-dom/server';
import { ReactStorefront } from './react-tree.tsx';

export function renderReactPage(o: { slots: Record<string, ResolvedSlot>; snippet: string; title: string }): string {
  const html = renderToString(<ReactStorefront slots={o.slots} />);
  const state = JSON.stringify(o.slots).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${o.title}</title><script>${o.snippet}</script></head><body><div id="root">${html}</div><script>window.__ATTUNE_SLOTS__=${state}</script><script src="/assets/react-page.js" defer></script></body></html>`;
}
