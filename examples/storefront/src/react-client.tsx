import { hydrateRoot } from 'react-dom/client';
import { ReactStorefront } from './react-tree.tsx';

const w = window as unknown as { __ATTUNE_SLOTS__: Parameters<typeof ReactStorefront>[0]['slots']; attune?: { track?: (e: string, p: Record<string, unknown>) => void } };
hydrateRoot(
  document.getElementById('root') as HTMLElement,
  <ReactStorefront slots={w.__ATTUNE_SLOTS__} onExposure={(event, properties) => w.attune?.track?.(event, properties)} />,
);
