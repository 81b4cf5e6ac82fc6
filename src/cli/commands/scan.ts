import { oneLine, quoted } from '../../core/one-line.js';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { discardCopy, inputCopyFolder } from '../../batch/input-copy.js';
import { rethrowRefusal } from '../../batch/redis-trouble.js';
import { prepareBatch, type PreparedBatch, type ScanSettings } from '../../batch/prepare.js';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import { systemClock } from '../../core/clock.js';
import { ReachscanError, UsageError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { outputFiles } from '../../output/write-outputs.js';
import { changesLine, costLine, type BatchReport } from '../../output/report.js';
import { formatCount, plural } from '../../output/format.js';
import { trendSummaryLine } from '../../output/report-trend.js';
import { createRedis, type RedisClient } from '../../queue/connection.js';
import { dropQueues, submitBatch } from '../../batch/submit.js';
import type { Workers } from '../../batch/worker.js';
import { batchExitCode } from '../../batch/exit-code.js';
import { parseCommandArgs } from '../args.js';
import { countryFlag, durationFlag, numberFlag, providerFlag } from '../../config/options.js';
import { printPlan, type PlanRequest } from './plan.js';
import type { BuiltInSimulator } from '../simulate/built-in.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { SCAN_HELP } from '../help.js';
import { lineWriter, type CliIo } from '../io.js';
import { inProcessConcurrency, SCAN_FLAGS, scanSettingsFromFlags } from '../scan-flags.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { historyPrivacy } from '../../config/privacy.js';
import { readQuota, type QuotaSettings } from '../../config/quota.js';
import { startScanCarrier } from '../scan-carrier.js';
import { type ProviderRegistry } from '../../providers/registry.js';
import { chooseRedis, warnIfHistoryInClear, type RedisChoice } from '../../queue/redis-choice.js';
import { checkLayout, HistoryLayoutError } from '../../history/layout.js';
import { migrateHistory } from '../../history/migrate.js';
import { inputCopyRoot, jobLockFromEnv, logLevel, queuePrefix } from '../../config/settings.js';
import { waitWithProgress, type WaitOutcome } from './scan-wait.js';
import { webhookSettings, type WebhookSettings } from '../../config/webhooks.js';
import { closeWebhookQueues } from '../../notify/events.js';
import { waitForDeliveries } from '../webhook-wait.js';

/** How long a finished scan waits for its webhook deliveries (`--webhook-wait`). */
const DEFAULT_WEBHOOK_WAIT_MS = 60_000;

export { SCAN_DEFAULTS };

/** A scan the flags ask for, checked before anything starts: the input, the output folder, the settings. */
interface ScanRequest {
  readonly file: string;
  /** Absolute, and known to take files. */
  readonly outDir: string;
  readonly simulate: boolean;
  /** False with --no-worker: reachscan worker processes do the lookups. */
  readonly inProcessWorker: boolean;
  readonly concurrency: number;
  readonly settings: ScanSettings;
  readonly lockMs: number;
  /** `--strict`: invalid numbers and malformed records exit 1 too. */
  readonly strict: boolean;
  /** REACHSCAN_WEBHOOK_*, and how long the scan waits for its deliveries before it exits (`--webhook-wait`). */
  readonly webhooks: WebhookSettings;
  readonly webhookWaitMs: number;
  /** REACHSCAN_DAILY_QUOTA and REACHSCAN_QUOTA_TZ, for the in-process worker. */
  readonly quota: QuotaSettings;
}

/** What a scan started and must stop again, recorded as each part starts so that cleanUp stops only those. */
interface Started {
  sim: BuiltInSimulator | null;
  providers: ProviderRegistry | null;
  redisChoice: RedisChoice | null;
  redis: RedisClient | null;
  prefix: string | null;
  workers: Workers | null;
  /** The batch is queued (its copy of the input is then the queue's to keep or remove). */
  submitted: boolean;
  /** Nothing can resume the batch any more: done, failed, or gone from Redis. */
  ended: boolean;
}

/** Where this run's batch is queued. */
interface RunQueues {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly redisChoice: RedisChoice;
}

type Say = (line: string) => void;

/** `reachscan scan <file> --out DIR`: scans one file and waits for it (or, with --dry-run, prints its plan). */
export async function runScan(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseScanArgs(argv);
  if (values.help) {
    io.stdout.write(SCAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('scan needs exactly one input file: reachscan scan <file> --out DIR');
  const file = positionals[0] as string;
  const maxAgeMs = durationFlag(values['max-age'], 'max-age') ?? 0;
  if (values['dry-run']) return printPlan(planRequest(values, file, maxAgeMs), io);
  return scan(await checkScanRequest(values, file, io), io);
}

function parseScanArgs(argv: readonly string[]) {
  return parseCommandArgs(argv, {
    ...SCAN_FLAGS,
    out: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    'webhook-wait': { type: 'string' },
  });
}

type ScanArgs = ReturnType<typeof parseScanArgs>['values'];

/** `--dry-run`: what `reachscan plan` would say about the same file and flags. */
function planRequest(values: ScanArgs, file: string, maxAgeMs: number): PlanRequest {
  return {
    file,
    provider: providerFlag(values.provider),
    column: values.column,
    defaultCountry: countryFlag(values['default-country']),
    maxAgeMs,
    rate: numberFlag(values.rate, 'rate', { min: 0, max: 100_000, integer: false }) ?? 0,
    simulate: values.simulate,
    json: false,
  };
}

/** Checks the flags a real scan needs, and that the output folder takes files. */
async function checkScanRequest(values: ScanArgs, file: string, io: CliIo): Promise<ScanRequest> {
  if (values.out === undefined)
    throw new UsageError('scan needs --out DIR, the folder for results.csv and the reports');
  const concurrency = inProcessConcurrency(values);
  const settings = scanSettingsFromFlags(values, io.env);
  const lockMs = jobLockFromEnv(io.env);
  const outDir = resolve(values.out);
  const webhooks = webhookSettings(io.env);
  const webhookWaitMs = durationFlag(values['webhook-wait'], 'webhook-wait') ?? DEFAULT_WEBHOOK_WAIT_MS;
  const quota = readQuota(io.env);
  await assertWritableFolder(outDir, values.out);
  return {
    file,
    outDir,
    simulate: values.simulate,
    inProcessWorker: !values['no-worker'],
    concurrency,
    settings,
    lockMs,
    strict: values.strict,
    webhooks,
    webhookWaitMs,
    quota,
  };
}

/** Prepares the batch, starts what it needs, submits or joins it, waits, and reports; then stops it all. */
async function scan(request: ScanRequest, io: CliIo): Promise<ExitCode> {
  const say: Say = lineWriter(io.stderr, 'reachscan: ');
  const clock = io.clock ?? systemClock;

  // Everything about the input that can be wrong is found before anything is queued or paid for.
  const prepared = await prepareBatch({
    file: request.file,
    outDir: request.outDir,
    copyTo: inputCopyFolder(inputCopyRoot(io.env), request.outDir),
    submittedAt: new Date(clock()).toISOString(),
    settings: request.settings,
  });

  const logger = createLogger({ level: logLevel(io.env) });
  const started: Started = {
    sim: null,
    providers: null,
    redisChoice: null,
    redis: null,
    prefix: null,
    workers: null,
    submitted: false,
    ended: false,
  };
  try {
    const queues = await startCarrierAndRedis(started, request, io, logger, say);
    // Before anything is queued: a history laid out in another bucket count would fail every chunk.
    await historyReady(queues.redis, request, say);
    await submitOrJoin(queues, request, prepared, say);
    started.submitted = true;
    const outcome = await waitWithProgress(
      {
        redis: queues.redis,
        prefix: queues.prefix,
        batchId: prepared.data.batchId,
        sizeBytes: prepared.sizeBytes,
        resumeEnv: resumeEnv(queues, request.simulate),
        clock,
        say,
      },
      io,
    );
    // Finished, or gone from Redis: nothing will read the batch's copy of its input again.
    started.ended =
      outcome.interrupted === null && ['finished', 'lost', 'refused'].includes(outcome.end.kind);
    const code = await finish(outcome, queues, request, prepared.data.batchId, io, say);
    if (started.ended && prepared.data.webhook != null) await awaitDeliveries(queues, request, prepared, say);
    return code;
  } finally {
    await cleanUp(started, request.simulate);
    // The batch's copy of its input stays only while a later run can resume the batch (a finished batch's
    // went with it); a batch never queued, or whose queues are gone with this run, has no use for it.
    if (!started.submitted || started.ended || request.simulate || started.redisChoice?.stopPrivate != null)
      await discardCopy(prepared.data.inputPath);
    logger.flush();
  }
}

/**
 * Starts the carrier (or the built-in simulator), picks Redis and this run's queues, and starts the in-process
 * worker unless --no-worker; each part is recorded in `started` as soon as it runs.
 */
async function startCarrierAndRedis(
  started: Started,
  request: ScanRequest,
  io: CliIo,
  logger: Logger,
  say: Say,
): Promise<RunQueues> {
  const carrier = await startScanCarrier(
    io.env,
    {
      simulate: request.simulate,
      inProcessWorker: request.inProcessWorker,
      concurrency: request.concurrency,
      provider: request.settings.provider,
      clock: io.clock,
    },
    logger,
    say,
  );
  started.sim = carrier.sim;
  started.providers = carrier.providers;
  const redisChoice = await chooseRedis(io.env, request.inProcessWorker, say);
  if (!request.simulate) warnIfHistoryInClear(io.env, redisChoice, say);
  started.redisChoice = redisChoice;
  // A simulated run gets queues of its own: real workers on the shared prefix must not take its jobs (they
  // would call the carrier), and its in-process worker must not answer real batches with simulated data.
  const prefix: string = request.simulate
    ? `${queuePrefix(io.env).slice(0, -1)}-simulate-${randomUUID()}}`
    : queuePrefix(io.env);
  started.prefix = prefix;
  const redis = createRedis(redisChoice.url, 'client');
  started.redis = redis;
  redis.on('error', () => {});
  if (carrier.providers !== null) {
    started.workers = startProcessWorkers(carrier.providers, {
      redisUrl: redisChoice.url,
      prefix,
      concurrency: request.concurrency,
      logger,
      clock: io.clock ?? systemClock,
      lockMs: request.lockMs,
      ...historyPrivacy(io.env),
      webhooks: request.webhooks,
      quota: request.quota,
    });
  }
  return { redis, prefix, redisChoice };
}

/** Submits the batch, or joins (resumes) the one the same request started before, and says which. */
async function submitOrJoin(
  queues: RunQueues,
  request: ScanRequest,
  prepared: PreparedBatch,
  say: Say,
): Promise<void> {
  const how = await submitBatch(queues.redis, queues.prefix, prepared.data).catch((error: unknown) =>
    rethrowRefusal(error, prepared.data.batchId),
  );
  say(
    `${how === 'resumed' ? 'resuming' : 'started'} batch ${prepared.data.batchId}: ${oneLine(basename(request.file))}, phone column ${quoted(prepared.phoneHeader)}` +
      `${!request.inProcessWorker ? ' (waiting for reachscan worker processes)' : ''}`,
  );
  for (const note of prepared.notes) say(note);
}

/** `reachscan resume` must reach this run's queues: what to set when they are not the usual ones. */
/**
 * Before anything is queued, the history must be laid out in the configured bucket count (else every chunk
 * would fail). A real history is the operator's to migrate; the simulator's own history (`--simulate`) holds
 * only simulated answers, so it is moved here rather than stopping a demo run.
 */
async function historyReady(
  redis: RedisClient,
  request: ScanRequest,
  say: (line: string) => void,
): Promise<void> {
  try {
    await checkLayout(redis, request.settings.history, false);
  } catch (error) {
    if (!request.simulate || !(error instanceof HistoryLayoutError)) throw error;
    const moved = await migrateHistory(redis, request.settings.history, null);
    say(
      `moved the simulator's history (${plural(moved.moved, 'entry', 'entries')}) into ${moved.buckets} buckets`,
    );
  }
}

function resumeEnv(queues: RunQueues, simulate: boolean): string[] {
  return [
    ...(queues.redisChoice.stopPrivate !== null ? [`REDIS_URL=${queues.redisChoice.url}`] : []),
    ...(simulate ? [`REACHSCAN_QUEUE_PREFIX=${queues.prefix.slice(1, -1)}`] : []),
  ];
}

/** The exit code for how waiting ended, with the summary on stdout or the reason on stderr. */
async function finish(
  { end, interrupted }: WaitOutcome,
  queues: RunQueues,
  request: ScanRequest,
  batchId: string,
  io: CliIo,
  say: Say,
): Promise<ExitCode> {
  if (interrupted !== null) {
    say(
      queues.redisChoice.stopPrivate !== null || request.simulate
        ? `${interrupted}: stopping; a ${request.simulate ? 'simulated run' : 'run on a private Redis'} cannot be resumed, the next one starts over`
        : `${interrupted}: stopping; run the same command again to resume batch ${batchId}`,
    );
    return EXIT.interrupted;
  }
  if (end.kind === 'job-failed') {
    // Its step, cursor and answers are still in Redis: submitBatch retries the job where it stopped.
    say(`batch ${batchId} failed in the queue (${end.reason}); run the same command again to resume it`);
    return EXIT.infrastructure;
  }
  if (end.kind === 'lost' || end.kind === 'refused') {
    say(end.message);
    return EXIT.infrastructure;
  }
  if (end.kind === 'stopped') throw new ReachscanError('INTERRUPTED', 'stopped waiting for the batch');
  const status = end.status;
  if (status.state === 'failed') {
    const failure = status.failure ?? 'the batch failed';
    say(
      failure.startsWith(request.file) || failure.startsWith(basename(request.file))
        ? failure
        : `batch ${batchId} stopped: ${failure}`,
    );
    return status.exitCode === 2 ? EXIT.usage : EXIT.infrastructure;
  }
  const names = outputFiles(request.settings.staleDays);
  const report = JSON.parse(await readFile(resolve(request.outDir, names.reportJson), 'utf8')) as BatchReport;
  io.stdout.write(summary(report, request.outDir, names));
  // The batch's own code says whether lookups failed; --strict also fails on the findings about the input.
  return status.exitCode === 0 && batchExitCode(report, request.strict) === 0 ? EXIT.ok : EXIT.rowErrors;
}

/** The batch's webhook deliveries, waited for up to --webhook-wait; what is left is said, with its fate. */
async function awaitDeliveries(
  queues: RunQueues,
  request: ScanRequest,
  prepared: PreparedBatch,
  say: Say,
): Promise<void> {
  // A simulated run's queues, and a private Redis, go when the scan exits: so do deliveries left in them.
  const dropped = request.simulate || queues.redisChoice.stopPrivate !== null;
  await waitForDeliveries({
    context: { redis: queues.redis, prefix: queues.prefix },
    batchId: prepared.data.batchId,
    waitMs: request.webhookWaitMs,
    leftTo: dropped ? 'dropped' : 'workers',
    say,
  });
  await closeWebhookQueues(queues.redis);
}

/** Stops whatever the scan started: the workers first (they use the rest), the simulator last. */
async function cleanUp(started: Started, simulate: boolean): Promise<void> {
  await started.workers?.close();
  await started.providers?.close();
  // A simulated run's queues are its own and cannot be resumed (its simulator is gone): leave nothing behind.
  if (simulate && started.redis !== null && started.prefix !== null) {
    await dropQueues(started.redis, started.prefix).catch(() => undefined);
  }
  await started.redis?.quit().catch(() => undefined);
  await started.redisChoice?.stopPrivate?.();
  await started.sim?.close();
}

function summary(report: BatchReport, outDir: string, names: ReturnType<typeof outputFiles>): string {
  const r = report.reachability;
  const n = formatCount;
  return [
    `${plural(report.rows.total, 'row')} → ${outDir}/${names.results}`,
    `  numbers: ${n(report.rows.valid)} valid (${n(report.unique_numbers)} unique, ${plural(report.rows.duplicate, 'duplicate')}), ${n(report.invalid_numbers)} invalid, ${plural(report.malformed_records, 'malformed record')} → ${names.rejects}`,
    `  reachable: ${n(r.reachable)} (${n(r.data)} with data, ${n(r.sms_only)} SMS only), not reachable: ${n(r.not_reachable)}, unknown: ${n(r.unknown)}`,
    roamingLine(report.roaming),
    `  no connectivity for ${report.stale.days}+ days: ${plural(report.stale.rows, 'row')} → ${report.stale.file}`,
    `  ${changesLine(report)}`,
    ...[trendSummaryLine(report)].filter((line) => line !== null).map((line) => `  ${line}`),
    ...(report.source.cache > 0
      ? [
          `  answered from the history (--max-age): ${plural(report.source.cache, 'row')}, asked live: ${n(report.source.live)}`,
        ]
      : []),
    ...(report.cost !== undefined ? [`  cost: ${costLine(report.cost)}`] : []),
    `  lookups failed: ${n(report.lookups_failed)}; report: ${names.reportHtml}, ${names.reportMd}, ${names.reportJson}`,
    '',
  ].join('\n');
}

/**
 * The roaming count and where: the five largest groups, then the rest summed, so the parts add up to the count
 * (each device is in one group). Groups are `;`-separated: a group's own label may hold commas.
 */
function roamingLine(roaming: BatchReport['roaming']): string {
  const groups = Object.entries(roaming.by_country);
  if (groups.length === 0) return `  roaming: ${formatCount(roaming.roaming)}`;
  const shown = groups.slice(0, 5).map(([group, n]) => `${group} ${formatCount(n)}`);
  const rest = groups.slice(5);
  if (rest.length > 0) {
    shown.push(`${plural(rest.length, 'other')} ${formatCount(rest.reduce((sum, [, n]) => sum + n, 0))}`);
  }
  return `  roaming: ${formatCount(roaming.roaming)} (${shown.join('; ')})`;
}

/** The output folder must take files before anything is paid for; found out at the end, it costs a batch. */
async function assertWritableFolder(path: string, given: string): Promise<void> {
  const probe = resolve(path, `.reachscan-write-test-${process.pid}`);
  try {
    // Results hold phone numbers: a folder made here is the owner's and group's only (one that exists is kept).
    await mkdir(path, { recursive: true, mode: 0o750 });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--out ${given}: cannot write there (${code})`);
  }
}
