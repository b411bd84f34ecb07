/**
 * The transactional outbox: facts written in the same transaction as the change they report
 * (an audience entry, an exit), read afterwards by consumers (webhooks, CMS and commerce
 * adapters), each at its own durable cursor. Nothing committed is lost when a process dies;
 * nothing rolled back is ever delivered.
 */
export interface OutboxWrite {
  topic: string;
  /** What the entry is about (a profile id): consumers may keep per-key order. */
  key: string;
  payload: unknown;
  createdAt: number;
}

export interface OutboxEntry extends OutboxWrite {
  /** Strictly increasing in commit order. */
  seq: number;
}

export interface DeadLetter {
  id: string;
  consumer: string;
  entry: OutboxEntry;
  error: string;
  attempts: number;
  at: number;
}

export interface OutboxStore {
  /** Entries after the consumer's cursor, oldest first. */
  read(consumer: string, limit: number): Promise<OutboxEntry[]>;
  /** Moves the consumer's cursor to `seq` (never backwards). */
  ack(consumer: string, seq: number): Promise<void>;
  cursor(consumer: string): Promise<number>;
  /** Parks an entry a consumer failed to deliver, so the consumer can go on. */
  deadLetter(letter: Omit<DeadLetter, 'id'>): Promise<DeadLetter>;
  listDeadLetters(consumer: string): Promise<DeadLetter[]>;
  /** Removes a dead letter and returns it (to be delivered again by the caller). */
  takeDeadLetter(consumer: string, id: string): Promise<DeadLetter | null>;
  /** The highest seq ever written, 0 before any (pruning does not lower it): where a new consumer starts. */
  tail(): Promise<number>;
  /**
   * Deletes the entries written before `createdBefore` that each of `consumers` has
   * acknowledged, all of them when there is no consumer: nobody reads those again (a new
   * consumer starts at the tail; a dead letter keeps its own copy). The time bound keeps the
   * entries of a consumer being created while this runs. Returns how many were deleted.
   */
  prune(consumers: readonly string[], createdBefore: number): Promise<number>;
  /** Forgets a consumer that is gone: its cursor (which would hold pruning back) and its dead letters. */
  dropConsumer(consumer: string): Promise<void>;
}
