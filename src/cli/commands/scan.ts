import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { prepareBatch } from '../../batch/prepare.js';
import { SCAN_DEFAULTS } from '../../config/defaults.js';
import { waitForBatch, type BatchEnd } from '../../batch/wait.js';
import { systemClock } from '../../core/clock.js';
import { ReachscanError, UsageError } from '../../core/errors.js';
import { createLogger } from '../../logging/logger.js';
import { outputFiles } from '../../output/write-outputs.js';
import { changesLine, type BatchReport } from '../../output/report.js';
import { createRedis } from '../../queue/connection.js';
import { dropQueues, submitBatch } from '../../batch/submit.js';
import type { Workers } from '../../batch/worker.js';
import { parseCommandArgs } from '../args.js';
import { durationFlag } from '../../config/options.js';
import { countryFlag } from '../../config/options.js';
import { numberFlag } from '../../config/options.js';
import { printPlan } from './plan.js';
import { providerFlag } from '../../config/options.js';
import type { BuiltInSimulator } from '../simulate/built-in.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { SCAN_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { createProgress } from '../progress.js';
import { inProcessConcurrency, SCAN_FLAGS, scanSettingsFromFlags } from '../scan-flags.js';
import { startProcessWorkers } from '../../batch/worker.js';
import { startScanCarrier } from '../scan-carrier.js';
import { type ProviderRegistry } from '../../providers/registry.js';
import { type RedisChoice } from '../../queue/redis-choice.js';
import { chooseRedis } from '../../queue/redis-choice.js';
import { jobLockFromEnv } from '../../config/settings.js';
import { queuePrefix } from '../../config/settings.js';
import { logLevel } from '../../config/settings.js';

/** After this long without any progress, the waiting scan says what may be wrong (once). */
const STALL_HINT_MS = 15_000;

export { SCAN_DEFAULTS };

export async function runScan(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    ...SCAN_FLAGS,
    out: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(SCAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('scan needs exactly one input file: reachscan scan <file> --out DIR');
  const maxAgeMs = durationFlag(values['max-age'], 'max-age') ?? 0;
  if (values['dry-run']) {
    return printPlan(
      {
        file: positionals[0] as string,
        provider: providerFlag(values.provider),
        column: values.column,
        defaultCountry: countryFlag(values['default-country']),
        maxAgeMs,
        rate: numberFlag(values.rate, 'rate', { min: 0, max: 100_000, integer: false }) ?? 0,
        simulate: values.simulate,
        json: false,
      },
      io,
    );
  }
  if (values.out === undefined)
    throw new UsageError('scan needs --out DIR, the folder for results.csv and the reports');
  const concurrency = inProcessConcurrency(values);
  const settings = scanSettingsFromFlags(values, io.env);
  const lockMs = jobLockFromEnv(io.env);
  const file = positionals[0] as string;
  const outDir = resolve(values.out);
  await assertWritableFolder(outDir, values.out);
  const say = (line: string) => io.stderr.write(`reachscan: ${line}\n`);
  const clock = io.clock ?? systemClock;

  // Everything about the input that can be wrong is found before anything is queued or paid for.
  const prepared = await prepareBatch({
    file,
    outDir,
    submittedAt: new Date(clock()).toISOString(),
    settings,
  });
  const { data } = prepared;
  const batchId = data.batchId;

  const logger = createLogger({ level: logLevel(io.env) });
  let sim: BuiltInSimulator | null = null;
  let redisChoice: RedisChoice | null = null;
  let workers: Workers | null = null;
  let providers: ProviderRegistry | null = null;
  const redisHolder: { client: ReturnType<typeof createRedis> | null } = { client: null };
  let usedPrefix: string | null = null;
  try {
    ({ sim, providers } = await startScanCarrier(
      io.env,
      { simulate: values.simulate, inProcessWorker: !values['no-worker'], concurrency, clock: io.clock },
      logger,
      say,
    ));
    redisChoice = await chooseRedis(io.env, !values['no-worker'], say);
    // A simulated run gets queues of its own: real workers on the shared prefix must not take its jobs (they
    // would call the carrier), and its in-process worker must not answer real batches with simulated data.
    const prefix: string = values.simulate
      ? `${queuePrefix(io.env).slice(0, -1)}-simulate-${randomUUID()}}`
      : queuePrefix(io.env);
    usedPrefix = prefix;
    const redis = createRedis(redisChoice.url, 'client');
    redisHolder.client = redis;
    redis.on('error', () => {});
    if (providers !== null) {
      workers = startProcessWorkers(providers, {
        redisUrl: redisChoice.url,
        prefix,
        concurrency,
        logger,
        clock,
        lockMs,
      });
    }
    const how = await submitBatch(redis, prefix, data);
    say(
      `${how === 'resumed' ? 'resuming' : 'started'} batch ${batchId}: ${basename(file)}, phone column "${prepared.phoneHeader}"` +
        `${values['no-worker'] ? ' (waiting for reachscan worker processes)' : ''}`,
    );
    for (const note of prepared.notes) say(note);

    const progress = createProgress(io.stderr, () => Date.now(), prepared.sizeBytes);
    const interrupt: { signal: string | null } = { signal: null };
    const stopWaiting = new AbortController();
    void io.stopSignal.then((signal) => {
      interrupt.signal = signal;
      stopWaiting.abort();
    });
    let hinted = false;
    let pausedSaid: string | null = null;
    // `reachscan resume` must reach this run's queues: say how when they are not the usual ones.
    const resumeEnv = [
      ...(redisChoice.stopPrivate !== null ? [`REDIS_URL=${redisChoice.url}`] : []),
      ...(values.simulate ? [`REACHSCAN_QUEUE_PREFIX=${prefix.slice(1, -1)}`] : []),
    ];
    let lastMove = { at: Date.now(), mark: '' };
    let end: BatchEnd;
    try {
      end = await waitForBatch(redis, prefix, batchId, {
        signal: stopWaiting.signal,
        onStatus: (status) => {
          if (status.paused !== null && status.paused !== pausedSaid) {
            progress.finish();
            say(`batch ${batchId} paused: ${status.paused}`);
            say(
              resumeEnv.length > 0
                ? `waiting; from another terminal: ${resumeEnv.join(' ')} reachscan resume ${batchId}`
                : `waiting; Ctrl-C stops waiting (the batch stays paused; run this command again to follow it)`,
            );
            pausedSaid = status.paused;
          } else if (status.paused === null && pausedSaid !== null) {
            say(`batch ${batchId} resumed`);
            pausedSaid = null;
          }
          progress.update(status);
          const mark = `${status.state}:${status.records}:${status.answered}`;
          if (mark !== lastMove.mark) lastMove = { at: Date.now(), mark };
          else if (!hinted && status.paused === null && Date.now() - lastMove.at > STALL_HINT_MS) {
            progress.finish();
            say(
              status.state === 'queued'
                ? `batch ${batchId} is still queued: is a reachscan worker running against the same Redis?`
                : `no progress for ${STALL_HINT_MS / 1000} s: a worker may have died; another takes its jobs over within a minute or two`,
            );
            hinted = true;
          }
        },
      });
    } catch (error) {
      if (error instanceof ReachscanError)
        throw new ReachscanError(error.code, `${error.message}; run the same command again to resume`);
      throw error;
    }
    progress.finish();
    if (interrupt.signal !== null) {
      say(
        redisChoice.stopPrivate !== null || values.simulate
          ? `${interrupt.signal}: stopping; a ${values.simulate ? 'simulated run' : 'run on a private Redis'} cannot be resumed, the next one starts over`
          : `${interrupt.signal}: stopping; run the same command again to resume batch ${batchId}`,
      );
      return EXIT.interrupted;
    }
    if (end.kind === 'job-failed') {
      say(`batch ${batchId} failed in the queue (${end.reason}); run the same command again to resume it`);
      return EXIT.infrastructure;
    }
    if (end.kind === 'stopped') throw new ReachscanError('INTERRUPTED', 'stopped waiting for the batch');
    const status = end.status;
    if (status.state === 'failed') {
      const failure = status.failure ?? 'the batch failed';
      say(
        failure.startsWith(file) || failure.startsWith(basename(file))
          ? failure
          : `batch ${batchId} stopped: ${failure}`,
      );
      return status.exitCode === 2 ? EXIT.usage : EXIT.infrastructure;
    }
    const names = outputFiles(settings.staleDays);
    const report = JSON.parse(await readFile(resolve(outDir, names.reportJson), 'utf8')) as BatchReport;
    io.stdout.write(summary(report, outDir, names));
    return status.exitCode === 0 ? EXIT.ok : EXIT.rowErrors;
  } finally {
    await workers?.close();
    await providers?.close();
    // A simulated run's queues are its own and cannot be resumed (its simulator is gone): leave nothing behind.
    if (values.simulate && redisHolder.client !== null && usedPrefix !== null) {
      await dropQueues(redisHolder.client, usedPrefix).catch(() => undefined);
    }
    await redisHolder.client?.quit().catch(() => undefined);
    await redisChoice?.stopPrivate?.();
    await sim?.close();
    logger.flush();
  }
}

function summary(report: BatchReport, outDir: string, names: ReturnType<typeof outputFiles>): string {
  const r = report.reachability;
  return [
    `${report.rows.total} rows → ${outDir}/${names.results}`,
    `  numbers: ${report.rows.valid} valid (${report.unique_numbers} unique, ${report.rows.duplicate} duplicates), ${report.rows.invalid} invalid, ${report.rows.rejected} malformed records → ${names.rejects}`,
    `  reachable: ${r.reachable} (${r.data} with data, ${r.sms_only} SMS only), not reachable: ${r.not_reachable}, unknown: ${r.unknown}`,
    `  roaming: ${report.roaming.roaming}${
      Object.keys(report.roaming.by_country).length > 0
        ? ` (${Object.entries(report.roaming.by_country)
            .slice(0, 5)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')})`
        : ''
    }`,
    `  no connectivity for ${report.stale.days}+ days: ${report.stale.rows} → ${report.stale.file}`,
    `  ${changesLine(report)}`,
    ...(report.source.cache > 0
      ? [
          `  answered from the history (--max-age): ${report.source.cache} rows, asked live: ${report.source.live}`,
        ]
      : []),
    `  rows in error: ${report.rows_in_error}; report: ${names.reportHtml}, ${names.reportMd}, ${names.reportJson}`,
    '',
  ].join('\n');
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
