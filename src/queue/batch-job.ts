import { DelayedError, UnrecoverableError, WaitingChildrenError, type Job, type Queue } from 'bullmq';
import { assertBatchJobData, type BatchJobData, type ChunkJobData } from './job-data.js';

/** Chunk job options: retried with exponential backoff and jitter; never leaving the batch stuck. */
export const CHUNK_JOB_OPTIONS = {
  attempts: 5,
  // A chunk that fails for good must not hold the batch: its numbers come out as ERROR_NOT_PROCESSED.
  ignoreDependencyOnFailure: true,
  removeOnComplete: true,
  // A failed chunk's numbers show as ERROR_NOT_PROCESSED; its job (phone numbers) is not kept.
  removeOnFail: true,
} as const;

/** What the ingest step may do with its batch job, without knowing BullMQ. */
export interface BatchJobHandle {
  /** Saves the job's data (its step and cursor), so a worker that takes the job over resumes there. */
  save(data: BatchJobData): Promise<void>;
  /** Queues a chunk job as a child of this batch job (its id is `<batch>-c<chunk>`). */
  addChunk(data: ChunkJobData, retryBaseMs: number): Promise<void>;
  /** Queues several chunk jobs as {@link addChunk} does, in one round trip. */
  addChunks(data: readonly ChunkJobData[], retryBaseMs: number): Promise<void>;
  /** Chunk jobs waiting for a worker, all batches together. */
  waitingChunks(): Promise<number>;
  /** Puts the job back in the queue, due now, without using an attempt; never returns. */
  handBack(): Promise<never>;
}

/**
 * The steps of a batch job, as the use case defines them. Failures they throw are handed to `failed`, which
 * says whether trying again can help.
 */
export interface BatchSteps {
  /** Reads the input into chunk jobs; returns the data with its cursor past the last record. */
  ingest(data: BatchJobData, job: BatchJobHandle): Promise<BatchJobData>;
  /** The input is read: its chunk jobs are all queued. */
  ingested(data: BatchJobData): Promise<void>;
  /** Called each time the job starts (or resumes) waiting for its chunks. */
  waiting(data: BatchJobData): Promise<void>;
  /**
   * How long to hold the batch back before it waits for its chunks again (ms; 0 = go on): a paused batch
   * does not finalize, since its resume may queue chunks again.
   */
  held(data: BatchJobData): Promise<number>;
  /** Every chunk is done: writes the outputs. */
  finalize(data: BatchJobData): Promise<{ exitCode: number }>;
  /** A step threw: `fatal` when no retry can help (the job then fails for good). */
  failed(data: BatchJobData, error: unknown, lastAttempt: boolean): Promise<'retry' | 'fatal'>;
}

/**
 * The batch queue's processor: BullMQ's step-job pattern. The step is saved in the job's data (ingest the file
 * into chunk jobs, wait for them as their parent, then finalize), so a worker that dies in any step is replaced
 * by one that resumes at that step.
 */
export function createBatchJobProcessor(steps: BatchSteps, deps: { chunkQueue: Queue }) {
  return async (job: Job, token?: string): Promise<{ exitCode: number }> => {
    const raw: unknown = job.data;
    assertBatchJobData(raw);
    let data: BatchJobData = raw;
    try {
      if (data.step === 'ingest') {
        data = {
          ...(await steps.ingest(data, batchJobHandle(job, token ?? '', deps.chunkQueue))),
          step: 'wait',
        };
        await job.updateData(data);
        await steps.ingested(data);
      }
      if (data.step === 'wait') {
        await steps.waiting(data);
        const heldMs = await steps.held(data);
        if (heldMs > 0) {
          // BullMQ schedules on the wall clock, whatever clock the batch itself is given.
          await job.moveToDelayed(Date.now() + heldMs, token ?? '');
          throw new DelayedError();
        }
        if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
        data = { ...data, step: 'finalize' };
        await job.updateData(data);
      }
      return await steps.finalize(data);
    } catch (error) {
      if (error instanceof WaitingChildrenError || error instanceof DelayedError) throw error;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if ((await steps.failed(data, error, lastAttempt)) === 'fatal')
        throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
      throw error;
    }
  };
}

/** The ingest step's view of a BullMQ batch job. */
export function batchJobHandle(job: Job, token: string, chunkQueue: Queue): BatchJobHandle {
  const chunkOptions = (data: ChunkJobData, retryBaseMs: number) => ({
    ...CHUNK_JOB_OPTIONS,
    backoff: { type: 'exponential', delay: retryBaseMs, jitter: 0.5 },
    jobId: `${data.batchId}-c${data.chunk}`,
    parent: { id: job.id as string, queue: job.queueQualifiedName },
  });
  return {
    save: (data) => job.updateData(data),
    async addChunk(data, retryBaseMs) {
      await chunkQueue.add('chunk', data, chunkOptions(data, retryBaseMs));
    },
    async addChunks(chunks, retryBaseMs) {
      if (chunks.length === 0) return;
      await chunkQueue.addBulk(
        chunks.map((data) => ({ name: 'chunk', data, opts: chunkOptions(data, retryBaseMs) })),
      );
    },
    waitingChunks: () => chunkQueue.getWaitingCount(),
    async handBack() {
      // BullMQ schedules on the wall clock, whatever clock the batch itself is given.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    },
  };
}
