import type { ServerResponse } from 'node:http';
import { AttuneError, type ErrorCode, type Issue, isAttuneError, type Logger } from '@attune/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';

/** The one place an error code becomes an HTTP status. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  VALIDATION: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function httpStatus(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; issues: Issue[] };
}

export function errorBody(error: AttuneError): ErrorBody {
  return { error: { code: error.code, message: error.message, issues: error.issues } };
}

export function sendError(res: ServerResponse, error: AttuneError): void {
  writeJson(res, httpStatus(error.code), errorBody(error));
}

/** Writes a JSON answer on a plain Node response (the routes served beside Express), in one write. */
export function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Status and code for errors raised by express, node or a library with an HTTP status. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** Turns anything thrown into an AttuneError the client may see; null for a server fault. */
export function toAttuneError(error: unknown): AttuneError | null {
  if (isAttuneError(error)) return error;
  // A value nested so deep that a recursive step (JSON.stringify in validation) overflowed.
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new AttuneError('VALIDATION', 'JSON is nested too deeply', { issues: [{ path: '(root)', message: 'nested too deeply' }] });
  }
  if (error !== null && typeof error === 'object') {
    const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = error instanceof Error && (error as { expose?: boolean }).expose !== false ? error.message : 'bad request';
      return new AttuneError(CODE_BY_STATUS[status] ?? 'VALIDATION', message);
    }
  }
  return null;
}

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    sendError(res, new AttuneError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
  };
}

/**
 * The last middleware: known errors become their status, anything else a logged 500 that
 * tells the client nothing about the internals. Never rethrows, so no request can crash
 * the process.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    answerError(res, err, logger, req.method, req.path);
  };
}

/** The error answer of any route, served by Express or beside it (see `errorHandler`). */
export function answerError(res: ServerResponse, err: unknown, logger: Logger, method: string, path: string): void {
  const known = toAttuneError(err);
  if (!known) {
    logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack, name: err.name } : String(err), method, path }, 'request failed');
  }
  if (res.headersSent) {
    // Part of a response is out; the only honest thing left is to cut the connection.
    res.destroy();
    return;
  }
  sendError(res, known ?? new AttuneError('INTERNAL', 'internal error; the server log has the details'));
}
