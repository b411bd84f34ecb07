import { isAttuneError } from '@attune/core';
import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { handleActivation } from '../../../activation.ts';

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, VALIDATION: 400, NOT_FOUND: 404 };

/** POST /attune/activations: Attune's signed audience webhooks. 2xx = applied; anything else makes Attune retry. */
export async function POST(req: MedusaRequest, res: MedusaResponse): Promise<void> {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const raw = (req as MedusaRequest & { rawBody?: Buffer | string }).rawBody;
  try {
    const outcome = await handleActivation(
      req.scope,
      { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') },
      raw === undefined ? '' : raw.toString(),
    );
    res.status(200).json(outcome);
  } catch (error) {
    const status = isAttuneError(error) ? (STATUS[error.code] ?? 500) : 500;
    res.status(status).json({ error: { code: isAttuneError(error) ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) } });
  }
}

// Attune authenticates with the webhook signature, not a Medusa session.
export const AUTHENTICATE = false;
