import { Queue, type Job } from 'bullmq';
import { batchJobHandle } from '../queue/batch-job.js';
import type { RedisClient } from '../queue/connection.js';
import { assertBatchJobData } from '../queue/job-data.js';
import { BATCH_QUEUE, batchKeys, CHUNK_QUEUE, queueOptions, type BatchKeys } from '../queue/keys.js';
import { chunkJob } from './ingest.js';
import type { Budget } from '../config/budget.js';
import { setBudget } from './budget.js';
import { liftDuePause, pauseCause, readStatus, resumeBatch } from './state.js';

export type ResumeResult =
  | {
      readonly kind: 'resumed';
      readonly chunks: number;
      readonly reason: string;
      /** Numbers whose refusal, saved before a pause for refusals, is asked again. */
      readonly reasked: number;
    }
  | { readonly kind: 'not-paused'; readonly state: string }
  | { readonly kind: 'unknown' }
  /** `--budget` in a currency the batch has no prices in. */
  | { readonly kind: 'bad-budget'; readonly reason: string };

/**
 * Lifts the error-ratio breaker's pause of a batch and brings its waiting chunks back at once (they would
 * otherwise look again only at their next re-check). When the batch paused for setup refusals (UNAUTHORIZED,
 * PERMISSION_DENIED, malformed requests), the refusals saved before the pause were no answer either: those
 * numbers are asked again, in chunk jobs of their own.
 */
export async function resumePausedBatch(
  redis: RedisClient,
  prefix: string,
  batchId: string,
  budget?: Budget,
): Promise<ResumeResult> {
  const keys = batchKeys(prefix, batchId);
  const status = await readStatus(redis, keys);
  if (status.state === null) return { kind: 'unknown' };
  // A new budget applies even to a batch that is not paused (yet): it would otherwise stop at the old one.
  if (budget !== undefined) {
    const problem = await setBudget(redis, keys, budget);
    if (problem !== null) return { kind: 'bad-budget', reason: problem };
  }
  if (status.paused === null) return { kind: 'not-paused', state: status.state };
  const chunkQueue = new Queue(CHUNK_QUEUE, queueOptions(redis, prefix));
  const batchQueue = new Queue(BATCH_QUEUE, queueOptions(redis, prefix));
  try {
    const batchJob = await batchQueue.getJob(batchId);
    // Queued while the batch is still paused: no chunk can ask them before the pause is lifted below.
    const reasked =
      (await pauseCause(redis, keys)) === 'setup' && batchJob !== undefined
        ? await reaskRefusals(redis, keys, batchJob, chunkQueue)
        : 0;
    if (!(await resumeBatch(redis, keys))) return { kind: 'not-paused', state: status.state };
    const chunks = await promoteChunks(chunkQueue, batchId);
    // A batch job held back from finalizing while paused goes on at once too.
    if (batchJob !== undefined && (await batchJob.getState()) === 'delayed')
      await batchJob.promote().catch(() => undefined);
    return { kind: 'resumed', chunks, reason: status.paused, reasked };
  } finally {
    await Promise.all([chunkQueue.close(), batchQueue.close()]);
  }
}

/**
 * Lifts a pause that ends by itself (the daily quota's reset) once `now` has reached its end, and brings the
 * batch's waiting chunks (and a held batch job) back at once. Any worker may call it, any number of times: one
 * lifts the pause, the others find nothing to do. The number of chunk jobs brought back, or null when there
 * was no due pause.
 */
export async function resumeDuePause(
  redis: RedisClient,
  prefix: string,
  batchId: string,
  now: number,
): Promise<number | null> {
  if (!(await liftDuePause(redis, batchKeys(prefix, batchId), now))) return null;
  const chunkQueue = new Queue(CHUNK_QUEUE, queueOptions(redis, prefix));
  const batchQueue = new Queue(BATCH_QUEUE, queueOptions(redis, prefix));
  try {
    const chunks = await promoteChunks(chunkQueue, batchId);
    const batchJob = await batchQueue.getJob(batchId);
    if (batchJob !== undefined && (await batchJob.getState()) === 'delayed')
      await batchJob.promote().catch(() => undefined);
    return chunks;
  } finally {
    await Promise.all([chunkQueue.close(), batchQueue.close()]);
  }
}

/** Chunk job states in which the job will run again, and then asks every number of its own without an answer. */
const WILL_RUN = new Set(['delayed', 'waiting', 'prioritized']);

/**
 * Asks again the numbers whose saved answer is a refusal: their answers are dropped, so a chunk job still in
 * the queue asks them again when it runs; those of chunks already done go into new chunk jobs (children of the
 * batch job, numbered below zero so they never meet ingest's numbers). A new job is queued before the answers
 * of its numbers are dropped: a crash in between leaves a refusal answered or asked again, never lost. A chunk
 * running right now counts as done: its number may then be asked twice, never not at all.
 */
async function reaskRefusals(
  redis: RedisClient,
  keys: BatchKeys,
  batchJob: Job,
  chunkQueue: Queue,
): Promise<number> {
  const data: unknown = batchJob.data;
  assertBatchJobData(data);
  const handle = batchJobHandle(batchJob, '', chunkQueue);
  const willRun = new Map<string, boolean>();
  const chunkWillRun = async (chunk: string) => {
    let known = willRun.get(chunk);
    if (known === undefined) {
      const state = await chunkQueue.getJobState(`${data.batchId}-c${chunk}`);
      known = WILL_RUN.has(state);
      willRun.set(chunk, known);
    }
    return known;
  };
  let reasked = 0;
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(keys.refused, cursor, 'COUNT', data.chunkSize);
    cursor = next;
    const numbers: string[] = [];
    const orphans: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [number, chunk] = [flat[i] as string, flat[i + 1] as string];
      numbers.push(number);
      if (!(await chunkWillRun(chunk))) orphans.push(number);
    }
    for (let from = 0; from < orphans.length; from += data.chunkSize) {
      const chunk = -(await redis.hincrby(keys.meta, 'reaskChunks', 1));
      const group = orphans.slice(from, from + data.chunkSize);
      await handle.addChunk(chunkJob(data, chunk, group), data.retryBaseMs);
    }
    if (numbers.length > 0) {
      await redis.hdel(keys.answers, ...numbers);
      await redis.hdel(keys.refused, ...numbers);
    }
    reasked += numbers.length;
  } while (cursor !== '0');
  return reasked;
}

/** Promotes the batch's delayed chunk jobs (those handed back while paused); how many. */
async function promoteChunks(queue: Queue, batchId: string): Promise<number> {
  // Chunk job ids are `<batch>-c<n>`; other batches' delayed jobs (a 429 pause, a shutdown) stay as they are.
  // Listed first, promoted after, so paging is not upset by jobs leaving the delayed set.
  const mine = [];
  const pageSize = 1_000;
  for (let start = 0; ; start += pageSize) {
    const page = await queue.getDelayed(start, start + pageSize - 1);
    mine.push(...page.filter((job) => job.id?.startsWith(`${batchId}-c`) === true));
    if (page.length < pageSize) break;
  }
  let chunks = 0;
  for (const job of mine) {
    // One taken or promoted meanwhile is fine.
    if (
      await job.promote().then(
        () => true,
        () => false,
      )
    )
      chunks++;
  }
  return chunks;
}
