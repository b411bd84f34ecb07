/**
 * A keyed hash (an HMAC with a key outside the database) of each identifier of every call is a
 * visible ingestion cost, and a visitor sends many calls: the latest inputs' hashes are
 * remembered, per hash function, in a bounded map that starts over when full.
 */
const MEMO_SIZE = 50_000;
const memos = new WeakMap<(value: string) => string, Map<string, string>>();

export function memoizedHash(hash: (value: string) => string, input: string): string {
  let memo = memos.get(hash);
  if (!memo) {
    memo = new Map();
    memos.set(hash, memo);
  }
  let out = memo.get(input);
  if (out === undefined) {
    out = hash(input);
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(input, out);
  }
  return out;
}
