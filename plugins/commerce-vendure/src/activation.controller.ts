import { isAttuneError } from '@attune/core';
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { Logger } from '@vendure/core';
import type { Request, Response } from 'express';
import { AttuneService } from './service.ts';

export const ACTIVATION_ROUTE = '/attune/activations';
const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, VALIDATION: 400, NOT_FOUND: 404 };

/**
 * Receives Attune's activation webhooks: audience membership changes and erasure notices. The
 * raw body (kept by the plugin's middleware) is what the signature covers. A 2xx tells Attune the change is applied; any
 * other answer makes it retry, so failures to reach Attune or the database answer 5xx.
 */
@Controller('attune')
export class AttuneActivationController {
  constructor(@Inject(AttuneService) private readonly service: AttuneService) {}

  @Post('activations')
  async receive(@Req() req: Request & { attuneRawBody?: string }, @Res() res: Response): Promise<void> {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    try {
      const outcome = await this.service.handleActivation(
        { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') },
        req.attuneRawBody ?? '',
      );
      res.status(200).json(outcome);
    } catch (error) {
      const status = isAttuneError(error) ? (STATUS[error.code] ?? 500) : 500;
      if (status === 500) Logger.error(`activation webhook failed: ${error instanceof Error ? error.message : String(error)}`, 'AttunePlugin');
      res.status(status).json({ error: { code: isAttuneError(error) ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) } });
    }
  }
}

const MAX_BODY = 1024 * 1024;

/** Keeps the raw body of activation webhooks (the signature covers the exact bytes) and stops the JSON parser from reading it. */
export function rawBodyMiddleware(req: Request & { attuneRawBody?: string; _body?: boolean }, res: Response, next: (err?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.status(413).json({ error: { code: 'PAYLOAD_TOO_LARGE', message: `activation webhook body over ${MAX_BODY} bytes` } });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    req.attuneRawBody = Buffer.concat(chunks).toString('utf8');
    req._body = true;
    next();
  });
  req.on('error', next);
}
