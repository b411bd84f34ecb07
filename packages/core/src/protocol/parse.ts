import type { z } from 'zod';
import { AttuneError, formatPath, type Issue } from '../errors.ts';
import { commerceEvents, isCommerceEvent, pageViewedSchema } from './commerce.ts';
import { inspectJson, inspectJsonSized } from './json-safety.ts';
import { LIMITS, utf8Length } from './limits.ts';
import { batchSchema, type Message, type MessageTypeName, messageSchemas } from './segment.ts';

export interface ParseOptions {
  /** Server receive time, epoch ms. */
  receivedAt: number;
  /** Makes a messageId for calls that came without one. */
  newId: () => string;
}

export function zodIssues(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): Issue[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...(issue.path as PropertyKey[])]),
    message: issue.message,
  }));
}

/** Parses input with a schema, or throws a VALIDATION error naming the first problem and listing all. */
export function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: z.ZodError } }, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = zodIssues(r.error);
  throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
}

type ParseOutcome = { ok: true; message: Message; bytes: number } | { ok: false; issues: Issue[]; tooLarge?: boolean };

/** Serialized size in UTF-8 bytes: exact when the bound from the safety walk could pass `limit`. */
function jsonBytes(value: unknown, bound: number, limit: number): number {
  if (bound <= limit) return bound;
  return utf8Length(JSON.stringify(value));
}

/**
 * Validates one call. `type` is the endpoint's type (/v1/track → 'track'); inside a batch
 * it comes from the call itself. Never throws for bad input: problems come back as issues.
 */
export function parseMessage(
  raw: unknown,
  type: MessageTypeName | undefined,
  options: ParseOptions,
  path: ReadonlyArray<PropertyKey> = [],
  inherited?: { context?: Record<string, unknown> | undefined; integrations?: Record<string, unknown> | undefined; sentAt?: string | undefined },
): ParseOutcome {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: formatPath(path), message: 'must be a JSON object' }] };
  }
  const safety = inspectJsonSized(raw, path);
  const bytes = jsonBytes(raw, safety.maxBytes, LIMITS.maxEventBytes);
  if (bytes > LIMITS.maxEventBytes) {
    return {
      ok: false,
      tooLarge: true,
      issues: [{ path: formatPath(path), message: `call is ${bytes} bytes; the limit is ${LIMITS.maxEventBytes} bytes` }],
    };
  }
  if (safety.issues.length > 0) return { ok: false, issues: safety.issues };

  const record = raw as Record<string, unknown>;
  const declared = record.type;
  let callType: MessageTypeName;
  if (type !== undefined) {
    if (declared !== undefined && declared !== type) {
      return { ok: false, issues: [{ path: formatPath([...path, 'type']), message: `must be "${type}" on this endpoint` }] };
    }
    callType = type;
  } else {
    if (typeof declared !== 'string' || !Object.hasOwn(messageSchemas, declared)) {
      return {
        ok: false,
        issues: [
          {
            path: formatPath([...path, 'type']),
            message: `must be one of ${Object.keys(messageSchemas).join(', ')}`,
          },
        ],
      };
    }
    callType = declared as MessageTypeName;
  }
  const parsed = messageSchemas[callType].safeParse({ ...record, type: callType });
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error, path) };
  const msg = parsed.data as Record<string, unknown>;

  // Known commerce events get their typed properties checked; any other name is a custom track.
  const propsSchema =
    callType === 'track' && isCommerceEvent(msg.event as string)
      ? commerceEvents[msg.event as keyof typeof commerceEvents]
      : callType === 'page'
        ? pageViewedSchema
        : undefined;
  if (propsSchema) {
    const props = propsSchema.safeParse(msg.properties ?? {});
    if (!props.success) return { ok: false, issues: zodIssues(props.error, [...path, 'properties']) };
    msg.properties = props.data;
  }

  const receivedIso = new Date(options.receivedAt).toISOString();
  msg.receivedAt = receivedIso;
  if (msg.messageId === undefined) msg.messageId = `attune-${options.newId()}`;
  if (inherited?.context || msg.context) msg.context = { ...(inherited?.context ?? {}), ...((msg.context as object) ?? {}) };
  else msg.context = {};
  if (inherited?.integrations && msg.integrations === undefined) msg.integrations = inherited.integrations;
  if (msg.sentAt === undefined && inherited?.sentAt) msg.sentAt = inherited.sentAt;
  msg.timestamp = eventTime(msg, options.receivedAt);
  return { ok: true, message: msg as Message, bytes };
}

/**
 * Segment's rule for event time: `timestamp` when sent; else `originalTimestamp` corrected
 * for the client's clock skew (`receivedAt - (sentAt - originalTimestamp)`); else receivedAt.
 */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function eventTime(msg: Record<string, unknown>, receivedAt: number): string {
  if (typeof msg.timestamp === 'string') {
    // Most clients already send UTC with milliseconds: keep it instead of re-formatting.
    return CANONICAL_ISO.test(msg.timestamp) ? msg.timestamp : new Date(Date.parse(msg.timestamp)).toISOString();
  }
  if (typeof msg.originalTimestamp === 'string') {
    const original = Date.parse(msg.originalTimestamp);
    if (typeof msg.sentAt === 'string') {
      const skew = Date.parse(msg.sentAt) - original;
      return new Date(receivedAt - Math.max(0, skew)).toISOString();
    }
    return new Date(original).toISOString();
  }
  return new Date(receivedAt).toISOString();
}

/** Validates one call and throws an AttuneError naming every problem. */
export function parseMessageOrThrow(raw: unknown, type: MessageTypeName | undefined, options: ParseOptions): Message {
  const outcome = parseMessage(raw, type, options);
  if (outcome.ok) return outcome.message;
  throw invalid(outcome.issues, outcome.tooLarge === true);
}

/**
 * Validates a batch body. All or nothing: one invalid call rejects the batch with every
 * problem listed, so a client never has to guess which calls were kept.
 */
export function parseBatchOrThrow(raw: unknown, options: ParseOptions): Message[] {
  const envelope = batchSchema.safeParse(raw);
  if (!envelope.success) throw invalid(zodIssues(envelope.error), false);
  const { batch, context, integrations, sentAt } = envelope.data;
  const envelopeSafety = inspectJson({ context, integrations });
  if (envelopeSafety.length > 0) throw invalid(envelopeSafety, false);
  const messages: Message[] = [];
  const issues: Issue[] = [];
  let tooLarge = false;
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) {
    const outcome = parseMessage(batch[i], undefined, options, ['batch', i], { context, integrations, sentAt });
    if (outcome.ok) {
      messages.push(outcome.message);
      bytes += outcome.bytes;
    } else {
      issues.push(...outcome.issues);
      tooLarge ||= outcome.tooLarge === true;
      if (issues.length >= 100) break;
    }
  }
  if (issues.length > 0) throw invalid(issues, tooLarge);
  // `bytes` sums upper bounds; measure exactly only when the bound passes the limit.
  if (bytes > LIMITS.maxBatchBytes) {
    const exact = utf8Length(JSON.stringify(batch));
    if (exact > LIMITS.maxBatchBytes) {
      throw new AttuneError('PAYLOAD_TOO_LARGE', `batch is ${exact} bytes; the limit is ${LIMITS.maxBatchBytes} bytes`, {
        issues: [{ path: 'batch', message: `batch is larger than ${LIMITS.maxBatchBytes} bytes` }],
      });
    }
  }
  return messages;
}

function invalid(issues: Issue[], tooLarge: boolean): AttuneError {
  const first = issues[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid input';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new AttuneError(tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION', `${summary}${more}`, { issues });
}
