import { DelayedError, UnrecoverableError, WaitingChildrenError, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '../queue/connection.js';
import type { Clock } from '../core/clock.js';
import type { CountryCode, E164 } from '../core/e164.js';
import { InputError } from '../input/errors.js';
import type { Logger } from '../logging/logger.js';
import { recordBatchRows } from '../metrics/rows.js';
import { StateStore } from '../history/state-store.js';
import { rememberAnswers } from '../history/annotate.js';
import { decodeAnswer, type StoredAnswer } from '../core/answer.js';
import { writeOutputs } from '../output/write-outputs.js';
import { closeBatch, readStatus, setState } from './state.js';
import { ingest } from './ingest.js';
import { assertBatchJobData, type BatchJobData } from '../queue/job-data.js';
import { batchKeys } from '../queue/keys.js';

export interface BatchProcessorDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly chunkQueue: Queue;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Set when the worker is shutting down: ingest saves its cursor and hands the job back. */
  readonly stopping: AbortSignal;
}

/**
 * The batch job, in steps saved in its data (BullMQ's step-job pattern): ingest the file into chunk jobs,
 * wait for them as their parent, then write every output. A worker that dies in any step is replaced by one
 * that resumes at that step.
 */
export function createBatchProcessor(deps: BatchProcessorDeps) {
  return async (job: Job, token?: string): Promise<{ exitCode: number }> => {
    const raw: unknown = job.data;
    assertBatchJobData(raw);
    let data: BatchJobData = raw;
    const keys = batchKeys(deps.prefix, data.batchId);
    const log = deps.logger.child({ batch: data.batchId });
    try {
      if (data.step === 'ingest') {
        await deps.redis.hsetnx(keys.meta, 'startedAt', new Date(deps.clock()).toISOString());
        await setState(deps.redis, keys, 'ingesting', { outDir: data.outDir });
        log.info({ file: data.displayName, from: data.cursor.records }, 'reading input');
        data = await ingest(job, data, {
          redis: deps.redis,
          keys,
          chunkQueue: deps.chunkQueue,
          stopping: deps.stopping,
          token: token ?? '',
        });
        data = { ...data, step: 'wait' };
        await job.updateData(data);
        // The dedupe claims are done with once the file is read (their count is in the meta as `unique`):
        // dropped now rather than at the end, they do not add to Redis's peak while answers and history grow.
        await deps.redis.del(keys.owners);
      }
      if (data.step === 'wait') {
        await setState(deps.redis, keys, 'running');
        if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
        data = { ...data, step: 'finalize' };
        await job.updateData(data);
      }
      const status = await readStatus(deps.redis, keys);
      // Closed by an earlier run of this step whose worker died before BullMQ marked the job done: the outputs
      // are written and the answers dropped, so writing again would replace the results with empty answers.
      if (status.state === 'done' && status.exitCode !== null) {
        log.info({ exitCode: status.exitCode }, 'batch already finalized');
        return { exitCode: status.exitCode };
      }
      if (status.failure !== null) {
        log.error({ failure: status.failure }, 'batch stopped');
        await closeBatch(deps.redis, keys, {
          state: 'failed',
          finishedAt: new Date(deps.clock()).toISOString(),
          exitCode: 3,
        });
        return { exitCode: 3 };
      }
      await setState(deps.redis, keys, 'finalizing');
      const history = new StateStore(deps.redis, data.history);
      const report = await writeOutputs({
        inputPath: data.inputPath,
        displayName: data.displayName,
        shape: { delimiter: data.delimiter, headers: data.headers, sizeBytes: 0 },
        phoneColumn: data.phoneColumn,
        ...(data.defaultCountry !== null ? { defaultCountry: data.defaultCountry as CountryCode } : {}),
        outDir: data.outDir,
        staleDays: data.staleDays,
        formulaGuard: data.formulaGuard,
        bom: data.bom,
        uniqueNumbers: status.unique,
        report: {
          batchId: data.batchId,
          inputFile: data.displayName,
          provider: data.provider,
          startedAt: status.startedAt ?? data.submittedAt,
        },
        answers: (numbers) => fetchAnswers(deps.redis, keys.answers, numbers),
        // The history learns this batch's answers only now, when they are final.
        remember: async (answers) =>
          void (await rememberAnswers(history, answers, data.provider, deps.clock())),
        now: deps.clock,
      });
      const exitCode = report.rows_in_error > 0 || report.rows.rejected > 0 ? 1 : 0;
      await closeBatch(deps.redis, keys, { state: 'done', finishedAt: report.finished_at, exitCode });
      // Metrics never fail a batch whose outputs are written.
      await recordBatchRows(deps.redis, deps.prefix, keys, report).catch((error: unknown) =>
        log.warn({ err: (error as Error).message }, 'rows metric not recorded'),
      );
      log.info({ rows: report.rows.total, exitCode }, 'batch done');
      return { exitCode };
    } catch (error) {
      if (error instanceof WaitingChildrenError || error instanceof DelayedError) throw error;
      // A file that cannot be read will not get better with retries.
      const final = error instanceof InputError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (final) {
        const reason = error instanceof Error ? error.message : String(error);
        await deps.redis.hsetnx(keys.meta, 'failure', reason);
        await closeBatch(deps.redis, keys, {
          state: 'failed',
          finishedAt: new Date(deps.clock()).toISOString(),
          exitCode: error instanceof InputError ? 2 : 3,
        });
        if (error instanceof InputError) throw new UnrecoverableError(error.message);
      }
      throw error;
    }
  };
}

async function fetchAnswers(
  redis: RedisClient,
  key: string,
  numbers: readonly E164[],
): Promise<Map<string, StoredAnswer>> {
  const values = await redis.hmget(key, ...numbers);
  const map = new Map<string, StoredAnswer>();
  numbers.forEach((n, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) map.set(n, decodeAnswer(value));
  });
  return map;
}
