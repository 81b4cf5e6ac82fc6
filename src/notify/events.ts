import { createHash, randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import { queueOptions } from '../queue/keys.js';

/** The events reachscan sends (docs/webhooks.md). */
export const WEBHOOK_EVENT_TYPES = [
  'batch.completed',
  'batch.failed',
  'batch.paused',
  'device.changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** BullMQ queue of deliveries, one job per event (its id is the event's `webhook-id`). */
export const WEBHOOK_QUEUE = 'webhooks';

/** Where events are queued: a Redis connection and the queue prefix (with its hash tag) of the workers. */
export interface WebhookQueueContext {
  readonly redis: RedisClient;
  readonly prefix: string;
}

export interface WebhookEventInput {
  /** The receiver's URL. */
  readonly url: string;
  readonly type: WebhookEventType;
  /** The event's `data` object: never a secret; a phone number only in `device.changed`. */
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * What makes the event itself (e.g. `batch id + completed`, or a CloudEvent id + change): the same key gives
   * the same event id, so a step that runs twice queues it once. Absent: a new event each call.
   */
  readonly key?: string;
  /** The batch the event belongs to: `scan` waits for its batch's deliveries. */
  readonly batchId?: string;
  /** When it happened (ms since epoch); now when absent. */
  readonly at?: number;
}

/** A delivery job's data: the event as sent, and when its retry window opened. */
export interface WebhookJobData {
  readonly id: string;
  readonly url: string;
  readonly type: WebhookEventType;
  /** ISO time of the event (the payload's `timestamp`). */
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly batchId: string | null;
  /** When retries started counting (ms): the event's queuing, or its last redelivery. */
  readonly since: number;
}

/** Delivered jobs are kept a week (the log, and what stops a repeated step from sending again), failed a month. */
const KEEP_DELIVERED_S = 7 * 24 * 3600;
const KEEP_FAILED_S = 30 * 24 * 3600;
/** Far more than the retry window ever needs: the window, not this count, ends the retries. */
const MAX_ATTEMPTS = 1_000;

/** The event id of a key: `msg_` then a hash, so it never holds the key's own text (a number, say). */
export function webhookEventId(key: string | undefined): string {
  if (key === undefined) return `msg_${randomUUID().replaceAll('-', '')}`;
  return `msg_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The body sent for an event: Standard Webhooks' `type`, `timestamp`, `data`. */
export function webhookBody(job: Pick<WebhookJobData, 'type' | 'timestamp' | 'data'>): string {
  return JSON.stringify({ type: job.type, timestamp: job.timestamp, data: job.data });
}

/** The set of a batch's event ids: `scan` waits for them. */
export function batchEventsKey(prefix: string, batchId: string): string {
  return `${prefix}:webhooks:batch:${batchId}`;
}

/** A webhook queue and the connection it was opened on. */
interface OpenedQueue {
  readonly queue: Queue;
  readonly connection: RedisClient;
}

const queues = new WeakMap<RedisClient, Map<string, OpenedQueue>>();

/**
 * One Queue per connection and prefix (closed with the connection's owner via {@link closeWebhookQueues}), on a
 * duplicate of the connection: BullMQ defines its scripts on the connection it is given, and an auto-pipelined
 * connection carrying them pays for copying them at every pipeline (the lookups' shared one, say).
 */
export function webhookQueue(context: WebhookQueueContext): Queue {
  let byPrefix = queues.get(context.redis);
  if (byPrefix === undefined) queues.set(context.redis, (byPrefix = new Map<string, OpenedQueue>()));
  let opened = byPrefix.get(context.prefix);
  if (opened === undefined) {
    const connection = context.redis.duplicate();
    connection.on('error', () => {});
    const queue = new Queue(WEBHOOK_QUEUE, queueOptions(connection, context.prefix));
    queue.on('error', () => {});
    byPrefix.set(context.prefix, (opened = { queue, connection }));
  }
  return opened.queue;
}

/** Closes the queues opened on a connection, and their own connections (before the connection is quit). */
export async function closeWebhookQueues(redis: RedisClient): Promise<void> {
  const byPrefix = queues.get(redis);
  queues.delete(redis);
  await Promise.all(
    [...(byPrefix?.values() ?? [])].map(async ({ queue, connection }) => {
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
    }),
  );
}

/**
 * Queues one event for delivery and returns its id. Every event goes through here: batch events at the end
 * of a batch, `device.changed` for changes found by a scan or by a network event. Queued once per id, so
 * however many workers run the step that queues it, the receiver gets it once.
 */
export async function enqueueWebhookEvent(
  context: WebhookQueueContext,
  event: WebhookEventInput,
): Promise<string> {
  const id = webhookEventId(event.key);
  const now = Date.now();
  const data: WebhookJobData = {
    id,
    url: event.url,
    type: event.type,
    timestamp: new Date(event.at ?? now).toISOString(),
    data: event.data,
    batchId: event.batchId ?? null,
    since: now,
  };
  if (event.batchId !== undefined) {
    const key = batchEventsKey(context.prefix, event.batchId);
    await context.redis.sadd(key, id);
    await context.redis.expire(key, KEEP_DELIVERED_S);
  }
  await webhookQueue(context).add(event.type, data, {
    jobId: id,
    attempts: MAX_ATTEMPTS,
    backoff: { type: 'webhook' },
    removeOnComplete: { age: KEEP_DELIVERED_S },
    removeOnFail: { age: KEEP_FAILED_S },
  });
  return id;
}

/** One line of the delivery log. */
export interface WebhookDelivery {
  readonly id: string;
  readonly type: string;
  /** The receiver, without query string or credentials (they may hold tokens). */
  readonly url: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  /** Why the last attempt failed (the status code or a timeout; never the receiver's body). */
  readonly last_error: string | null;
  readonly batch_id: string | null;
  readonly created_at: string;
  readonly finished_at: string | null;
}

/** A URL as the log shows it: scheme, host and path. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function stateOf(job: Job): WebhookDelivery['state'] {
  if (job.finishedOn !== undefined && job.failedReason !== undefined && job.returnvalue === null)
    return 'failed';
  return job.finishedOn !== undefined ? 'delivered' : 'pending';
}

export function describeDelivery(
  job: Job<WebhookJobData>,
  state?: WebhookDelivery['state'],
): WebhookDelivery {
  return {
    id: job.data.id,
    type: job.data.type,
    url: redactUrl(job.data.url),
    state: state ?? stateOf(job),
    attempts: job.attemptsMade,
    last_error: job.failedReason === undefined || job.failedReason === '' ? null : job.failedReason,
    batch_id: job.data.batchId,
    created_at: new Date(job.timestamp).toISOString(),
    finished_at: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
  };
}

/** The delivery log, newest first: every delivery kept, or only the failed ones. */
export async function listWebhookDeliveries(
  context: WebhookQueueContext,
  options: { readonly failed?: boolean; readonly limit?: number } = {},
): Promise<WebhookDelivery[]> {
  const queue = webhookQueue(context);
  const limit = options.limit ?? 1000;
  const kinds: [WebhookDelivery['state'], Parameters<Queue['getJobs']>[0]][] = options.failed
    ? [['failed', ['failed']]]
    : [
        ['pending', ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']],
        ['failed', ['failed']],
        ['delivered', ['completed']],
      ];
  const lines: WebhookDelivery[] = [];
  for (const [state, types] of kinds) {
    const jobs = (await queue.getJobs(types, 0, limit - 1)) as Job<WebhookJobData>[];
    for (const job of jobs) if (job !== undefined) lines.push(describeDelivery(job, state));
  }
  return lines.sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, limit);
}

/**
 * Sends an event again, with the same id (receivers deduplicate by it) and a fresh retry window. Returns what
 * happened: `queued`, `pending` (it is still being tried), or `unknown` (no such delivery in the log).
 */
export async function redeliverWebhook(
  context: WebhookQueueContext,
  id: string,
): Promise<'queued' | 'pending' | 'unknown'> {
  const job = (await webhookQueue(context).getJob(id)) as Job<WebhookJobData> | undefined;
  if (job === undefined) return 'unknown';
  const state = await job.getState();
  if (state !== 'completed' && state !== 'failed') return 'pending';
  await job.updateData({ ...job.data, since: Date.now() });
  await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
  return 'queued';
}

/** The states of a batch's deliveries: what a finishing `scan` waits for. */
export async function batchDeliveries(
  context: WebhookQueueContext,
  batchId: string,
): Promise<{ readonly id: string; readonly type: string; readonly state: WebhookDelivery['state'] }[]> {
  const ids = await context.redis.smembers(batchEventsKey(context.prefix, batchId));
  const queue = webhookQueue(context);
  const found = await Promise.all(
    ids.map(async (id) => {
      const job = (await queue.getJob(id)) as Job<WebhookJobData> | undefined;
      if (job === undefined) return null;
      const state = await job.getState();
      const mapped: WebhookDelivery['state'] =
        state === 'completed' ? 'delivered' : state === 'failed' ? 'failed' : 'pending';
      return { id, type: job.data.type, state: mapped };
    }),
  );
  return found.filter((entry) => entry !== null);
}
