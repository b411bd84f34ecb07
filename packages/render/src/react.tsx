import { createContext, type ReactNode, useContext, useEffect, useRef } from 'react';
import { exposureEvent, type ResolvedSlot, type SlotDecision, slotContent } from './slots.ts';

interface AttuneContextValue {
  slots: Record<string, ResolvedSlot>;
  onExposure?: ((event: string, properties: Record<string, string>) => void) | undefined;
}

const AttuneContext = createContext<AttuneContextValue>({ slots: {} });

/**
 * Provides decisions to the tree. On the server, pass the slots resolved for the request; in the
 * browser, pass the same ones (serialized into the page), so hydration renders identical markup.
 */
export function AttuneProvider(props: { slots: Record<string, ResolvedSlot>; onExposure?: AttuneContextValue['onExposure']; children: ReactNode }) {
  return <AttuneContext.Provider value={{ slots: props.slots, onExposure: props.onExposure }}>{props.children}</AttuneContext.Provider>;
}

/** The slot's decision (null when it shows its default). */
export function useDecision(slot: string): SlotDecision | null {
  return useContext(AttuneContext).slots[slot]?.decision ?? null;
}

/**
 * Renders a personalized slot: `children(content, decision)` when the slot has a decision, else
 * `fallback`. The exposure is recorded after the variant is on screen (an effect: never on the server).
 */
export function Personalize(props: { slot: string; fallback: ReactNode; children: (content: unknown, decision: SlotDecision) => ReactNode }) {
  const ctx = useContext(AttuneContext);
  const decision = ctx.slots[props.slot]?.decision ?? null;
  const recorded = useRef(false);
  useEffect(() => {
    if (recorded.current || !decision) return;
    const exposure = exposureEvent(decision);
    if (exposure) ctx.onExposure?.(exposure.event, exposure.properties);
    recorded.current = true;
  }, [decision, ctx]);
  if (!decision?.content) return <>{props.fallback}</>;
  return <>{props.children(slotContent(decision), decision)}</>;
}
