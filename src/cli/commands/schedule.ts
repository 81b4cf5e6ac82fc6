import { UsageError } from '../../core/errors.js';
import { createRedis, type RedisClient } from '../../queue/connection.js';
import {
  JOB_FIELDS,
  listSchedules,
  loadJobsFolder,
  syncSchedules,
  zonedIso,
  type ScheduleEntry,
  type SyncEntry,
} from '../../schedule/index.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { lineWriter, type CliIo } from '../io.js';
import { chooseRedis } from '../../queue/redis-choice.js';
import { queuePrefix } from '../../config/settings.js';

export const SCHEDULE_HELP = `Usage: reachscan schedule sync [--dir DIR]
       reachscan schedule list [--json]

Nightly (or any cron) scans declared as files: each jobs/<id>.json names a source CSV, a cron pattern and its
time zone, an output folder and scan options. reachscan worker processes run them: at every tick one worker
starts the scan of that tick, which writes to <out>/<id>-<UTC time of the tick>/ (results.csv and reports).

  sync   makes Redis's schedules match the job files: adds and updates one BullMQ job scheduler per file,
         removes those whose file is gone (or says "enabled": false). Every file is checked first: with any
         problem, each is printed (file and field) and nothing changes (exit 2).
  list   the schedules in Redis, soonest first: id, pattern, time zone, next run (UTC and the job's zone),
         source, last run (its batch, or why it could not start).

Options:
  --dir DIR    sync: the jobs folder (default jobs); one folder per REACHSCAN_QUEUE_PREFIX
  --json       list: one JSON object {prefix, schedules: [...]} for scripts

Job file fields (see jobs/README.md):
  ${JOB_FIELDS.join(', ')}
Relative source and out paths are read from the job file's folder.
Redis: REDIS_URL; queues: REACHSCAN_QUEUE_PREFIX.
`;

/** `reachscan schedule sync|list`. */
export async function runSchedule(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(SCHEDULE_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub === 'sync') return scheduleSync(rest, io);
  if (sub === 'list') return scheduleList(rest, io);
  throw new UsageError(`schedule: unknown subcommand "${sub}" (sync or list)`);
}

async function scheduleSync(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, { dir: { type: 'string', default: 'jobs' } });
  if (values.help) {
    io.stdout.write(SCHEDULE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `schedule sync takes no arguments (got "${positionals[0]}"); name the folder with --dir`,
    );
  const prefix = queuePrefix(io.env);
  const folder = await loadJobsFolder(values.dir);
  if (folder.problems.length > 0) {
    for (const problem of folder.problems) lineWriter(io.stderr, 'reachscan: ')(problem);
    const n = folder.problems.length;
    io.stderr.write(`reachscan: schedule sync: nothing changed (${n} problem${n === 1 ? '' : 's'} above)\n`);
    return EXIT.usage;
  }
  for (const warning of folder.warnings) lineWriter(io.stderr, 'reachscan: warning: ')(warning);
  return withRedis(io, async (redis) => {
    const entries = await syncSchedules(redis, prefix, folder.definitions);
    io.stdout.write(syncReport(entries, values.dir, prefix));
    return EXIT.ok;
  });
}

async function scheduleList(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean', default: false } });
  if (values.help) {
    io.stdout.write(SCHEDULE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`schedule list takes no arguments (got "${positionals[0]}")`);
  const prefix = queuePrefix(io.env);
  return withRedis(io, async (redis) => {
    const entries = await listSchedules(redis, prefix);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ prefix, schedules: entries.map(toJson) }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(listTable(entries, prefix));
    // A tick long past with its job still waiting means nobody is taking them.
    const now = Date.now();
    for (const entry of entries) {
      if (entry.nextRunMs !== null && entry.nextRunMs < now - 60_000) {
        io.stderr.write(
          `reachscan: ${entry.id}: the tick of ${new Date(entry.nextRunMs).toISOString()} has not been taken: is a reachscan worker running on this Redis and prefix?\n`,
        );
      }
    }
    return EXIT.ok;
  });
}

async function withRedis(io: CliIo, use: (redis: RedisClient) => Promise<ExitCode>): Promise<ExitCode> {
  const choice = await chooseRedis(io.env, false, lineWriter(io.stderr, 'reachscan schedule: '));
  const redis = createRedis(choice.url, 'client');
  redis.on('error', () => {});
  try {
    return await use(redis);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function nextRunText(ms: number | null, timezone: string): string {
  return ms === null ? '-' : `${new Date(ms).toISOString()} (${zonedIso(ms, timezone)})`;
}

function syncReport(entries: readonly SyncEntry[], dir: string, prefix: string): string {
  const width = Math.max(2, ...entries.map((e) => e.id.length));
  const lines = entries.map((e) => {
    const head = `${e.action.padEnd(9)} ${e.id.padEnd(width)}`;
    const d = e.definition;
    if (e.action === 'removed') return `${head}  (its job file is gone)`;
    if (e.action === 'disabled' || d === null) return `${head}  ("enabled": false)`;
    return `${head}  "${d.cron}" ${d.timezone}, next ${nextRunText(e.nextRunMs, d.timezone)}`;
  });
  const count = (action: string) => entries.filter((e) => e.action === action).length;
  lines.push(
    `schedules from ${dir} on ${prefix}: ${count('added')} added, ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('removed')} removed, ${count('disabled')} disabled`,
  );
  return `${lines.join('\n')}\n`;
}

function lastRunText(entry: ScheduleEntry): string {
  const run = entry.lastRun;
  if (run === null) return '-';
  if (run.error !== null) return `${run.tick} not started: ${run.error}`;
  if (run.batchState === 'done') return `${run.tick} done, exit ${run.exitCode ?? '?'}`;
  if (run.batchState === 'failed') return `${run.tick} failed: ${run.failure ?? 'see the batch'}`;
  if (run.batchState !== null) return `${run.tick} ${run.batchState}`;
  return `${run.tick} batch ${run.batchId ?? '?'}`;
}

function listTable(entries: readonly ScheduleEntry[], prefix: string): string {
  if (entries.length === 0)
    return `no schedules on ${prefix}: add job files to jobs/ and run reachscan schedule sync\n`;
  const header = ['id', 'pattern', 'time zone', 'next run (UTC)', 'next run (local)', 'source', 'last run'];
  const rows = entries.map((e) => [
    e.id,
    e.pattern,
    e.timezone,
    e.nextRunMs === null ? '-' : new Date(e.nextRunMs).toISOString(),
    e.nextRunMs === null ? '-' : zonedIso(e.nextRunMs, e.timezone),
    e.definition?.source ?? '-',
    lastRunText(e),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function toJson(entry: ScheduleEntry) {
  const d = entry.definition;
  const run = entry.lastRun;
  return {
    id: entry.id,
    description: d?.description ?? null,
    pattern: entry.pattern,
    timezone: entry.timezone,
    next_run: entry.nextRunMs === null ? null : new Date(entry.nextRunMs).toISOString(),
    next_run_local: entry.nextRunMs === null ? null : zonedIso(entry.nextRunMs, entry.timezone),
    source: d?.source ?? null,
    out: d?.out ?? null,
    provider: d?.provider ?? null,
    job_file: d?.jobFile ?? null,
    last_run:
      run === null
        ? null
        : {
            tick: run.tick,
            at: run.at,
            batch_id: run.batchId,
            out_dir: run.outDir,
            error: run.error,
            batch_state: run.batchState,
            exit_code: run.exitCode,
            failure: run.failure,
          },
  };
}
