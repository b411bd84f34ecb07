import type { IncomingMessage as Request, ServerResponse as Response } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { AttuneError } from '@attune/core';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface BodyLimit {
  /** Most bytes accepted, before and after decompression. */
  bytes: number;
  /** What the limit applies to, for the error message: `/v1/track`. */
  label: string;
}

function tooLarge(limit: BodyLimit): AttuneError {
  return new AttuneError('PAYLOAD_TOO_LARGE', `body is larger than ${limit.bytes} bytes, the limit for ${limit.label}`, {
    issues: [{ path: '(root)', message: `larger than ${limit.bytes} bytes` }],
  });
}

function invalid(message: string): AttuneError {
  return new AttuneError('VALIDATION', message, { issues: [{ path: '(root)', message }] });
}

/** The media type without parameters, lower-cased: `text/plain;charset=UTF-8` → `text/plain`. */
export function mediaType(req: Request): string | undefined {
  const header = req.headers['content-type'];
  if (header === undefined) return undefined;
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/** Refuses a media type outside `accepted` and any charset other than UTF-8 (or its ASCII subset). */
export function checkContentType(req: Request, accepted: readonly string[], res: Response): string | undefined {
  const type = mediaType(req);
  if (type !== undefined && type !== '' && !accepted.includes(type)) {
    res.setHeader('Accept-Post', accepted.join(', '));
    throw invalid(`Content-Type ${type} is not accepted here; send ${accepted.join(' or ')}`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw invalid(`charset ${charset} is not accepted; send UTF-8`);
  }
  return type;
}

/**
 * Reads the raw body into memory, never more than `limit.bytes` of it. A body over the limit
 * is refused before it is read when Content-Length says so, otherwise as soon as it passes;
 * the rest is drained and the connection closed after the answer.
 */
export function readRawBody(req: Request, res: Response, limit: BodyLimit): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit.bytes) {
    res.setHeader('Connection', 'close');
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      req.off('close', onClose);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.bytes) {
        res.setHeader('Connection', 'close');
        fail(tooLarge(limit));
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => fail(error);
    const onAborted = () => fail(invalid('request aborted'));
    const onClose = () => fail(invalid('request closed before its body was complete'));
    req.on('data', onData);
    req.on('close', onClose);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Undoes Content-Encoding (gzip, deflate) with the same size limit on the decoded bytes. */
export async function decodeContent(req: Request, raw: Buffer, limit: BodyLimit): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw invalid(`Content-Encoding ${encoding} is not supported; send gzip, deflate or none`);
  }
  try {
    const inflateFn = encoding === 'deflate' ? inflateAsync : gunzipAsync;
    return await inflateFn(raw, { maxOutputLength: limit.bytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw invalid(`body is not valid ${encoding} data`);
  }
}

export function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid('body is not valid UTF-8');
  }
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.trim() === '') throw invalid('body is empty; send a JSON object');
    throw invalid(`body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Reads, decompresses, UTF-8-checks and decodes a body to text. */
export async function readTextBody(req: Request, res: Response, limit: BodyLimit): Promise<string> {
  const raw = await readRawBody(req, res, limit);
  const bytes = raw.length === 0 ? raw : await decodeContent(req, raw, limit);
  return decodeUtf8(bytes);
}

export async function readJsonBody(req: Request, res: Response, limit: BodyLimit): Promise<unknown> {
  return parseJsonText(await readTextBody(req, res, limit));
}
