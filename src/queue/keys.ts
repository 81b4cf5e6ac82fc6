import type { QueueOptions } from 'bullmq';
import { hashTagged } from '../core/settings.js';
import type { RedisClient } from './connection.js';

/** Queue names; with the prefix they make BullMQ's keys. */
export const BATCH_QUEUE = 'batches';
export const CHUNK_QUEUE = 'chunks';
/** Scheduled scans (`reachscan schedule sync`): BullMQ job schedulers, run by every worker. */
export const SCHEDULE_QUEUE = 'schedules';

/** BullMQ's prefix for a queue prefix name: the name in a hash tag (see {@link hashTagged}). */
export function bullPrefix(name: string): string {
  return hashTagged(name);
}

export interface BatchKeys {
  /** Hash: state, counters, timestamps, abort reason. */
  readonly meta: string;
  /** Hash: E.164 → index of the chunk that asks for it (first occurrence wins: the dedupe). */
  readonly owners: string;
  /** Hash: E.164 → encoded answer. */
  readonly answers: string;
  /**
   * Hash: E.164 → the chunk that saved a setup refusal as its answer (UNAUTHORIZED, PERMISSION_DENIED, a
   * malformed-request rejection): asked again when a batch paused for such refusals is resumed.
   */
  readonly refused: string;
  /**
   * Hash: what the batch spends on upstream requests: its budget (`unit`, `limit`, `currency`), the prices of
   * its provider's request kinds (`price:<kind>`, millionths), and what was spent (`spent`, `n:<kind>`,
   * `micros`).
   */
  readonly spend: string;
}

export function batchKeys(prefix: string, batchId: string): BatchKeys {
  const base = `${prefix}:batch:${batchId}`;
  return {
    meta: `${base}:meta`,
    owners: `${base}:owners`,
    answers: `${base}:answers`,
    refused: `${base}:refused`,
    spend: `${base}:spend`,
  };
}

/**
 * A provider's count of upstream requests on one quota day (`YYYY-MM-DD` in REACHSCAN_QUOTA_TZ), shared by every
 * batch and worker of the prefix; under the prefix's hash tag, so one script can touch it with a batch's keys.
 */
export function quotaKey(prefix: string, provider: string, day: string): string {
  return `${prefix}:quota:${provider}:${day}`;
}

/** The shared pacing key: one per prefix, so every worker and batch on this Redis shares one rate cap. */
export function rateKey(prefix: string): string {
  return `${prefix}:rate`;
}

/**
 * Events each queue keeps in its BullMQ event stream (BullMQ's default is 10,000). reachscan reads none of them
 * (dashboards may); a long batch would otherwise leave about 1 MB of old events behind in Redis.
 */
export const QUEUE_EVENTS_MAX_LEN = 1_000;

/** Options for every BullMQ Queue reachscan opens: one setting each, since BullMQ keeps it per queue in Redis. */
export function queueOptions(connection: RedisClient, prefix: string): QueueOptions {
  return { connection, prefix, streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } } };
}
