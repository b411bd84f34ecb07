import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The plugin's outbox: calls for Attune written in the same database transaction as the
 * order or customer change they report (blocking event handlers run inside it), delivered
 * afterwards in id order. Nothing committed is lost when the process dies; nothing rolled
 * back is sent. Column types are explicit so no decorator metadata is needed.
 */
@Entity('attune_outbox')
@Index(['failed', 'nextAttemptAt'])
export class AttuneOutboxEntry {
  @PrimaryGeneratedColumn()
  id!: number;

  /** One Segment call, JSON. */
  @Column('text')
  call!: string;

  @Column('int', { default: 0 })
  attempts!: number;

  /** Epoch ms before which the entry is not retried. */
  @Column('bigint', { default: 0 })
  nextAttemptAt!: number;

  /** Parked after a permanent refusal or too many attempts; kept with its error for an operator. */
  @Column('boolean', { default: false })
  failed!: boolean;

  @Column('text', { nullable: true })
  lastError!: string | null;

  @Column('bigint')
  createdAt!: number;
}

/** Where a catalog export stream stopped: the (updatedAt, id) of the last acknowledged item. */
@Entity('attune_export_cursor')
export class AttuneExportCursor {
  @PrimaryColumn('varchar', { length: 100 })
  stream!: string;

  @Column('text')
  cursor!: string;

  @Column('bigint')
  savedAt!: number;
}

/**
 * Erasure notices handled, by `webhook-id`: a redelivery of one notice is answered without a
 * second run, and confirmations still owed to Attune survive a restart. Holds no identifiers:
 * the request id and what was deleted (counts) only.
 */
@Entity('attune_erasure_notice')
export class AttuneErasureNotice {
  @PrimaryColumn('varchar', { length: 300 })
  webhookId!: string;

  @Column('varchar', { length: 100, nullable: true })
  requestId!: string | null;

  /** What the erasure deleted here, JSON counts (shown on Attune's receipt). */
  @Column('text')
  details!: string;

  @Column('bigint')
  receivedAt!: number;

  /** Epoch ms when Attune acknowledged the confirmation; null while it is owed. */
  @Column('bigint', { nullable: true })
  confirmedAt!: number | null;
}
