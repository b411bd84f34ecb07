import { AttuneError } from '@attune/core';
import type { Request, Response } from 'express';
import { type BodyLimit, checkContentType, readJsonBody } from './body.ts';

/** A JSON object body of the admin API (config documents). */
export async function jsonBody(req: Request, res: Response, limit: BodyLimit): Promise<Record<string, unknown>> {
  checkContentType(req, ['application/json'], res);
  const body = await readJsonBody(req, res, limit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AttuneError('VALIDATION', 'the body must be a JSON object', { issues: [{ path: '(root)', message: 'must be a JSON object' }] });
  }
  return body as Record<string, unknown>;
}

/** The version a PUT replaces: `If-Match: "3"` or `"version": 3` in the body (the body wins). */
export function expectedVersion(req: Request, body: Record<string, unknown>): number {
  const fromBody = body.version;
  delete body.version;
  const header = req.headers['if-match'];
  const raw = fromBody ?? (typeof header === 'string' ? header.replace(/^W\//, '').replace(/"/g, '') : undefined);
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) {
    throw new AttuneError('VALIDATION', 'version: send the version you read, in the body or an If-Match header', {
      issues: [{ path: 'version', message: 'required: the version this change replaces' }],
    });
  }
  return n;
}

