import { readSpending, reportCost } from './budget.js';
import type { Clock } from '../core/clock.js';
import type { CountryCode } from '../core/e164.js';
import { errorMessage } from '../core/errors.js';
import { rememberAnswers } from '../history/annotate.js';
import { StateStore } from '../history/state-store.js';
import type { StateSecret } from '../core/settings.js';
import type { ProviderName } from '../core/lookup-result.js';
import { InputError } from '../input/errors.js';
import { defaultIdColumns } from '../input/id-columns.js';
import type { Logger } from '../logging/logger.js';
import { recordBatchRows } from '../metrics/rows.js';
import { writeOutputs } from '../output/write-outputs.js';
import type { BatchSteps } from '../queue/batch-job.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';
import { batchKeys } from '../queue/keys.js';
import { fetchAnswers } from './answers.js';
import { batchExitCode } from './exit-code.js';
import { labelTrend } from './run-trend.js';
import { ingest } from './ingest.js';
import { assertCopyUnchanged, InputCopyError, removeInputCopy, verifyInputCopy } from './input-copy.js';
import { controlAfterDuePause, PAUSED_RECHECK_MS, pausedRecheckMs } from './paused.js';
import { closeBatch, readStatus, setState } from './state.js';
import { rememberWebhook, sendBatchEvent, sendChangeEvents } from './webhooks.js';
import { outputFiles } from '../output/report-files.js';

export interface BatchStepDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Set when the worker is shutting down: ingest saves its cursor and hands the job back. */
  readonly stopping: AbortSignal;
  /** This process's REACHSCAN_STATE_SECRET: names the history's entries. */
  readonly stateSecret: StateSecret;
  /** The provider's configured purpose, for batches submitted without one. */
  readonly defaultPurpose: (provider: ProviderName) => string;
}

/**
 * A batch's steps: ingest the file into chunk jobs, wait for them, then write every output and close the
 * batch. The queue runs them in order and saves which one the batch is in.
 */
export function createBatchSteps(deps: BatchStepDeps): BatchSteps {
  const { redis } = deps;
  const keysOf = (data: BatchJobData) => batchKeys(deps.prefix, data.batchId);
  const now = () => new Date(deps.clock()).toISOString();
  return {
    async ingest(data, job) {
      const keys = keysOf(data);
      await redis.hsetnx(keys.meta, 'startedAt', now());
      await setState(redis, keys, 'ingesting', { outDir: data.outDir });
      await rememberWebhook(redis, keys, data);
      deps.logger
        .child({ batch: data.batchId })
        .info({ file: data.displayName, from: data.cursor.records }, 'reading input');
      // Chunks are queued from the copy only while it holds what intake read.
      const copy = await verifyInputCopy(data);
      const ingested = await ingest(data, { redis, keys, job, stopping: deps.stopping });
      await assertCopyUnchanged(data, copy);
      return ingested;
    },
    // The dedupe claims are done with once the file is read (their count is in the meta as `unique`): dropped
    // now rather than at the end, they do not add to Redis's peak while answers and history grow.
    ingested: async (data) => void (await redis.del(keysOf(data).owners)),
    waiting: (data) => setState(redis, keysOf(data), 'running'),
    // Checked before the chunks are waited for, so chunks a resume queues are always waited for. A pause due
    // to end (the daily quota's reset) is lifted here too, in case no chunk of the batch is left to do it.
    async held(data) {
      const control = await controlAfterDuePause(deps, data.batchId);
      if (!control.paused) return 0;
      return Math.min(PAUSED_RECHECK_MS, pausedRecheckMs(control.until, deps.clock()));
    },
    finalize: (data) => finalize(data, deps),
    async failed(data, error, lastAttempt) {
      // A file that cannot be read, or a copy that no longer holds it, will not get better with retries.
      const fatal = error instanceof InputError || error instanceof InputCopyError;
      if (fatal || lastAttempt) {
        const keys = keysOf(data);
        await redis.hsetnx(keys.meta, 'failure', errorMessage(error));
        const exitCode = error instanceof InputError ? 2 : 3;
        await closeBatch(redis, keys, { state: 'failed', finishedAt: now(), exitCode });
        await removeInputCopy(data);
        const reason = errorMessage(error);
        await sendBatchEvent(webhookQueueOf(deps), data, { state: 'failed', reason }, deps.logger);
      }
      return fatal ? 'fatal' : 'retry';
    },
  };
}

const webhookQueueOf = (deps: BatchStepDeps) => ({ redis: deps.redis, prefix: deps.prefix });

/** Writes every output once all chunks are done, lets the history learn the answers, and closes the batch. */
async function finalize(data: BatchJobData, deps: BatchStepDeps): Promise<{ exitCode: number }> {
  const { redis, clock } = deps;
  const keys = batchKeys(deps.prefix, data.batchId);
  const log = deps.logger.child({ batch: data.batchId });
  const status = await readStatus(redis, keys);
  // Closed by an earlier run of this step whose worker died before BullMQ marked the job done: the outputs
  // are written and the answers dropped, so writing again would replace the results with empty answers.
  if (status.state === 'done' && status.exitCode !== null) {
    log.info({ exitCode: status.exitCode }, 'batch already finalized');
    return { exitCode: status.exitCode };
  }
  const finishedAt = () => new Date(clock()).toISOString();
  if (status.failure !== null) {
    log.error({ failure: status.failure }, 'batch stopped');
    await closeBatch(redis, keys, { state: 'failed', finishedAt: finishedAt(), exitCode: 3 });
    await removeInputCopy(data);
    await sendBatchEvent(webhookQueueOf(deps), data, { state: 'failed', reason: status.failure }, log);
    return { exitCode: 3 };
  }
  await setState(redis, keys, 'finalizing');
  // Outputs are built from the copy only while it holds what intake read, and published only if it did not
  // change while they were written.
  const copy = await verifyInputCopy(data);
  const history = new StateStore(redis, data.history, deps.stateSecret);
  const purpose = data.purpose ?? deps.defaultPurpose(data.provider);
  const report = await writeOutputs({
    source: {
      path: data.inputPath,
      shape: { delimiter: data.delimiter, headers: data.headers, sizeBytes: 0 },
      displayName: data.displayName,
      phoneColumn: data.phoneColumn,
      defaultCountry: (data.defaultCountry ?? undefined) as CountryCode | undefined,
    },
    outDir: data.outDir,
    staleDays: data.staleDays,
    formulaGuard: data.formulaGuard,
    bom: data.bom,
    xlsx: data.xlsx === true,
    // Jobs queued before id columns existed: the default ones.
    idColumns: data.idColumns ?? defaultIdColumns(data.headers.length, data.phoneColumn),
    uniqueNumbers: status.unique,
    report: {
      batchId: data.batchId,
      inputFile: data.displayName,
      provider: data.provider,
      startedAt: status.startedAt ?? data.submittedAt,
      label: data.label ?? null,
      purpose,
      cost: reportCost(await readSpending(redis, keys)),
    },
    answers: (numbers) => fetchAnswers(redis, keys.answers, numbers),
    // The history learns this batch's answers only now, when they are final.
    remember: async (answers) =>
      void (await rememberAnswers(history, answers, data.provider, clock(), purpose)),
    now: clock,
    trend: labelTrend(redis, data),
    beforePublish: () => assertCopyUnchanged(data, copy),
  });
  // Invalid cells and malformed records are findings, not failures: only lookups that failed make it 1
  // (`scan --strict` applies its own rule to the same counts).
  const exitCode = batchExitCode(report, false);
  await closeBatch(redis, keys, { state: 'done', finishedAt: report.finished_at, exitCode });
  await removeInputCopy(data);
  // Metrics never fail a batch whose outputs are written.
  await recordBatchRows(redis, deps.prefix, keys, report).catch((error: unknown) =>
    log.warn({ err: errorMessage(error) }, 'rows metric not recorded'),
  );
  // Changes first: a receiver that acts on batch.completed has the batch's device.changed events queued before it.
  const webhooks = webhookQueueOf(deps);
  await sendChangeEvents(webhooks, data, outputFiles(data.staleDays).changes, log);
  await sendBatchEvent(webhooks, data, { state: 'done', report }, log);
  log.info({ rows: report.rows.total, exitCode }, 'batch done');
  return { exitCode };
}
