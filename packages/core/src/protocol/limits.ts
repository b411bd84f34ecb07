/** Segment's documented limits, which Attune keeps so Segment clients behave the same. */
export const LIMITS = {
  /** Bytes of one call (track, identify, …), serialized as JSON. */
  maxEventBytes: 32 * 1024,
  /** Bytes of one batch request. */
  maxBatchBytes: 500 * 1024,
  /** Nesting depth of objects and arrays inside a call. */
  maxDepth: 24,
  /** Length of ids (messageId, userId, anonymousId, groupId). */
  maxIdLength: 255,
  /** Length of an event name. */
  maxEventNameLength: 200,
} as const;

/** UTF-8 byte length of a string without TextEncoder or Buffer (the core has neither). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
