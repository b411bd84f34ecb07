import type { Clock, Logger } from '../ports.ts';
import type { Message } from '../protocol/segment.ts';
import type { Store } from '../store.ts';
import { type GroupSettings, ingestGroup } from './group.ts';

export interface IngestResult {
  /** Calls stored now. */
  accepted: number;
  /** Calls whose messageId was seen before: acknowledged, not stored again. */
  duplicates: number;
  /** Calls not stored: refused (an erased identifier) or dropped by the consent gate. */
  dropped: number;
  /** Profile id per call, in order (null for a duplicate). */
  profileIds: Array<string | null>;
}

interface Job {
  messages: Message[];
  /** False for calls nobody was promised durability for (see `submit`). */
  durable: boolean;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

export interface CommitterOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  settings: GroupSettings;
  /** Most calls in one transaction. */
  maxGroupSize: number;
  onCommitted?: (outcome: { merges: Array<{ from: string; into: string }>; events: number; recommendQueued: boolean }) => void;
}

/**
 * Group commit: calls that arrive while a transaction runs (or within one turn of the event
 * loop) are written together in the next transaction, so many small requests cost one
 * commit and one fsync. A promise resolves only after its transaction committed, which is
 * what makes a 2xx durable.
 */
export class Committer {
  private queue: Job[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: CommitterOptions) {}

  /**
   * Commits `messages` with the next group. `durable: false` (decide's exposures and offer
   * impressions, which no client was promised) lets a group made only of such calls commit
   * without waiting for the disk (see the store's `TransactionOptions`).
   */
  submit(messages: Message[], options: { durable?: boolean } = {}): Promise<IngestResult> {
    if (messages.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, dropped: 0, profileIds: [] });
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ messages, durable: options.durable !== false, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every submitted call has been committed or failed. */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    this.options.clock.defer(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group = this.take();
        await this.commit(group);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private take(): Job[] {
    const group: Job[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Job;
      if (group.length > 0 && size + next.messages.length > this.options.maxGroupSize) break;
      group.push(next);
      size += next.messages.length;
      this.queue.shift();
    }
    return group;
  }

  private async commit(group: Job[]): Promise<void> {
    try {
      await this.commitTogether(group);
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Job).reject(error);
        return;
      }
      // One job's failure must not fail the others: retry each on its own.
      this.options.logger.warn({ err: String(error), jobs: group.length }, 'group commit failed; retrying jobs one by one');
      for (const job of group) {
        try {
          await this.commitTogether([job]);
        } catch (e) {
          job.reject(e);
        }
      }
    }
  }

  private async commitTogether(group: Job[]): Promise<void> {
    const all: Message[] = [];
    for (const job of group) all.push(...job.messages);
    const durable = group.some((job) => job.durable);
    const outcome = await this.options.store.transaction((tx) => ingestGroup(tx, all, this.options.settings), { durable });
    this.options.onCommitted?.({ merges: outcome.merges, events: all.length, recommendQueued: outcome.recommendQueued });
    let offset = 0;
    for (const job of group) {
      const ids = outcome.profileIds.slice(offset, offset + job.messages.length);
      let dropped = 0;
      for (let i = offset; i < offset + job.messages.length; i++) if (outcome.dropped[i]) dropped++;
      offset += job.messages.length;
      let accepted = 0;
      for (const id of ids) if (id !== null) accepted++;
      job.resolve({ accepted, duplicates: ids.length - accepted - dropped, dropped, profileIds: ids });
    }
  }
}
