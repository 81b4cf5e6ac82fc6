import { budgetProblem, type Budget } from '../config/budget.js';
import type { PriceTable } from '../config/prices.js';
import { DEFAULT_BREAKER } from '../batch/error-breaker.js';
import { mkdir, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { discardCopy, inputCopyFolder } from '../batch/input-copy.js';
import { prepareBatch } from '../batch/prepare.js';
import { SCAN_DEFAULTS } from '../config/defaults.js';
import type { Clock } from '../core/clock.js';
import { ReachscanError, UsageError } from '../core/errors.js';
import type { HistoryOptions } from '../core/settings.js';
import { InputError } from '../input/errors.js';
import { OUTPUT_FOLDER_MODE } from '../output/csv-file.js';
import { readStatus } from '../batch/state.js';
import type { RedisClient } from '../queue/connection.js';
import { batchKeys } from '../queue/keys.js';
import { submitBatch } from '../batch/submit.js';
import { folderTimestamp } from './cron.js';
import type { ScheduleDefinition } from './definition.js';
import { tickClaimKey } from './runs.js';

/** A tick's claim outlives any retry of its job (BullMQ gives up within minutes). */
const TICK_CLAIM_TTL_S = 3 * 24 * 3600;

/** A run that cannot start whatever we retry (no such source file, no phone column, an out folder we cannot create). */
export class ScheduledRunError extends ReachscanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SCHEDULED_RUN_INVALID', message, options);
  }
}

/** What a worker process brings to every run: settings that are the process's, not the job file's. */
export interface RunDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly history: HistoryOptions;
  readonly retryBaseMs: number;
  /** REACHSCAN_DATA_DIR, where runs keep their copies of the source file (`inputs/`); null: in the run's folder. */
  readonly copyRoot: string | null;
  readonly clock: Clock;
  /** REACHSCAN_WEBHOOK_URL of the worker: used when the job file names no `webhook`. */
  readonly defaultWebhook?: string | null;
  /** REACHSCAN_PRICES as this worker read it: the runs' cost, and money budgets. */
  readonly prices?: PriceTable | null;
}

export type RunStart =
  | {
      readonly kind: 'submitted';
      readonly batchId: string;
      readonly outDir: string;
      readonly how: 'new' | 'resumed';
    }
  /** The tick had already started its batch (a retried or duplicated job): nothing is queued again. */
  | { readonly kind: 'already-started'; readonly batchId: string; readonly outDir: string };

/** Each run writes to `<out>/<id>-<tick, UTC>/`, so the folder says which night it is about. */
export function runFolder(definition: ScheduleDefinition, tickMs: number): string {
  return join(definition.out, `${definition.id}-${folderTimestamp(tickMs)}`);
}

/**
 * Starts the batch of one tick of a schedule; the batch then runs on the batch and chunk workers like any
 * other. At most one batch per tick: the batch id is derived from the run's folder (hence the tick), and the
 * tick is claimed in Redis for that batch, so a retried job, or one a second worker took over, joins it.
 */
export async function startScheduledRun(
  deps: RunDeps,
  definition: ScheduleDefinition,
  tickMs: number,
): Promise<RunStart> {
  const outDir = runFolder(definition, tickMs);
  // The run's folder first: the batch's copy of its source goes in it (without a data folder).
  const made = await makeRunFolder(definition, outDir);
  let prepared;
  try {
    prepared = await prepareBatch({
      file: definition.source,
      outDir,
      copyTo: inputCopyFolder(deps.copyRoot, outDir),
      submittedAt: new Date(deps.clock()).toISOString(),
      settings: {
        provider: definition.provider,
        column: definition.column ?? undefined,
        defaultCountry: definition.defaultCountry,
        chunkSize: SCAN_DEFAULTS.chunkSize,
        staleDays: definition.staleDays,
        rate: definition.rate,
        maxAgeMs: definition.maxAgeMs,
        formulaGuard: true,
        bom: false,
        history: deps.history,
        retryBaseMs: deps.retryBaseMs,
        breaker: DEFAULT_BREAKER,
        idColumns: definition.idColumns,
        label: definition.label,
        purpose: definition.purpose,
        sheet: definition.sheet,
        xlsx: definition.xlsx,
        webhook: scheduledWebhook(definition.webhook ?? deps.defaultWebhook ?? null),
        ...runSpending(definition.budget, deps.prices ?? null),
      },
      // A schedule's runs are one source: its trend is under its name unless the job file names another.
      defaultLabel: definition.id,
    });
  } catch (error) {
    // A run that cannot start leaves no empty folder behind.
    if (made !== undefined) await removeEmptyFolders(outDir, made);
    if (error instanceof InputError) throw new ScheduledRunError(error.message, { cause: error });
    // An `idColumns` name the source lacks: retrying will not make it appear.
    if (error instanceof UsageError) {
      const message = error.message.replace(/^--id-columns:/, '"idColumns":');
      throw new ScheduledRunError(`${definition.jobFile}: ${message}`, { cause: error });
    }
    throw error;
  }
  const { batchId } = prepared.data;
  const claim = tickClaimKey(deps.prefix, definition.id, tickMs);
  const claimed = await deps.redis.set(claim, batchId, 'EX', TICK_CLAIM_TTL_S, 'NX');
  if (claimed === null) {
    const holder = await deps.redis.get(claim);
    // Another batch holds the tick (the source changed between two attempts): that one is the tick's run.
    if (holder !== null && holder !== batchId) {
      await discardCopy(prepared.data.inputPath);
      return { kind: 'already-started', batchId: holder, outDir };
    }
    // Ours: already finished (its outcome record is kept a day) or still in flight (submitBatch joins it).
    const { state } = await readStatus(deps.redis, batchKeys(deps.prefix, batchId));
    if (state === 'done' || state === 'failed') {
      // Its copy went with it when it closed; the one just made serves nothing.
      await discardCopy(prepared.data.inputPath);
      return { kind: 'already-started', batchId, outDir };
    }
  }
  const how = await submitBatch(deps.redis, deps.prefix, prepared.data);
  return { kind: 'submitted', batchId, outDir, how };
}

/** Creates a run's folder; returns the first folder it made (undefined when it was there). */
async function makeRunFolder(definition: ScheduleDefinition, outDir: string): Promise<string | undefined> {
  try {
    return await mkdir(outDir, { recursive: true, mode: OUTPUT_FOLDER_MODE });
  } catch (error) {
    throw new ScheduledRunError(
      `${definition.jobFile}: "out": cannot create ${outDir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: error },
    );
  }
}

/** Removes `leaf` and its parents up to `top`, as long as each is empty (another run may be using one). */
async function removeEmptyFolders(leaf: string, top: string): Promise<void> {
  for (let dir = leaf; dir.startsWith(top); dir = dirname(dir)) {
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (dir === top) return;
  }
}

/** A run's webhook: its outputs are files on the worker's disk, so no links. */
function scheduledWebhook(url: string | null): { url: string; links: null } | null {
  return url === null ? null : { url, links: null };
}

/** A run's budget and prices; a money budget without prices in its currency cannot start. */
function runSpending(
  budget: Budget | undefined,
  prices: PriceTable | null,
): { budget?: Budget; prices: PriceTable | null } {
  if (budget === undefined) return { prices };
  const problem = budgetProblem(budget, prices, 'budget');
  if (problem !== null) throw new ScheduledRunError(problem);
  return { budget, prices };
}
