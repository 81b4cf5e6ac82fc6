import { startSimulatorProcess } from '../../test/support/simulator-process.js';
import {
  batchMemoryFigures,
  logBatchMemory,
  mb,
  measureBatchMemory,
  type BatchMemory,
} from '../lib/batch-memory.js';
import { round, simulatorEnv } from '../lib/harness.js';
import { clusterShares, linearFit, memoryPerMaster, type LinearFit } from '../lib/projection.js';
import type { Scenario, ScenarioResult } from '../lib/scenario.js';

const MILLION = 1_000_000;
/** The sizes measured at --scale 1, and those projected to (not scaled: the contract's 10M and 100M). */
const SIZES = [1, 2, 5].map((m) => m * MILLION);
const TARGETS = [10 * MILLION, 100 * MILLION];
const MASTERS = [3, 6];
/** Bounded RSS: the largest size's at most this times the smallest's. */
const RSS_GROWTH_MAX = 1.3;
/** Redis per million rows: the largest size's within this share of the smallest's. */
const PER_MILLION_TOLERANCE = 0.15;

/**
 * B6: B3's measures (scan and worker peak RSS, Redis peak, the history) at 1M, 2M and 5M rows, each on a
 * fresh redis-server, to show that RSS is bounded and Redis grows in proportion to the rows; then a
 * least-squares line of each through the three sizes, projected to 10M and 100M rows, and Redis's memory per
 * master of a 3- and a 6-master cluster. 8 million rows in all: only run when `--scenario B6` names it.
 */
export const b6Projection: Scenario = {
  id: 'B6',
  title: 'memory projection: 1M, 2M and 5M rows, projected to 10M and 100M',
  defaultRun: false,
  async run({ scale, log }) {
    const sim = await startSimulatorProcess();
    const runs: BatchMemory[] = [];
    try {
      for (const size of SIZES) {
        const rows = Math.round(size * scale);
        const run = await measureBatchMemory({
          rows,
          simulator: simulatorEnv(sim.stdout()),
          prefix: 'bench-b6',
        });
        logBatchMemory(run, log);
        runs.push(run);
      }
    } finally {
      await sim.stop();
    }
    return projectionResult(runs, log);
  },
};

/** Redis's peak over its baseline for each million rows of a batch, bytes. */
const redisPerMillion = (run: BatchMemory) => ((run.redis.peak - run.redis.baseline) / run.rows) * MILLION;

function projectionResult(runs: readonly BatchMemory[], log: (line: string) => void): ScenarioResult {
  const figures: Record<string, unknown> = {};
  for (const run of runs)
    figures[`rows_${run.rows}`] = {
      ...batchMemoryFigures(run),
      redis_peak_mb_per_million_rows: mb(redisPerMillion(run)),
    };
  const fits = fitsOf(runs);
  const slope = (fit: LinearFit) => mb(fit.slope * MILLION);
  // RSS is bounded, not proportional: its lines give its growth per million rows, and are not projected.
  figures.per_million_rows_mb = Object.fromEntries(
    Object.entries({ ...fits.redis, ...fits.rss }).map(([name, fit]) => [name, slope(fit)]),
  );
  const baseline = runs.reduce((sum, run) => sum + run.redis.baseline, 0) / runs.length;
  const projection = TARGETS.map((rows) => projectTo(rows, fits.redis, baseline));
  figures.projection = Object.fromEntries(projection.map((p) => [`rows_${p.rows}`, p.figures]));
  const { ratios, checks } = flatness(runs);
  figures.largest_over_smallest = ratios;
  logMeasured(runs, log);
  log(
    `growth per million rows (slopes of the lines): scan RSS ${slope(fits.rss.scan_rss)} MB, worker RSS ${slope(fits.rss.worker_rss)} MB, Redis peak ${slope(fits.redis.redis_peak)} MB (the history ${slope(fits.redis.history)} MB, the batch's keys ${slope(fits.redis.batch_peak)} MB)`,
  );
  logProjection(runs, projection, log);
  return { figures, checks };
}

/** Least-squares lines through the sizes measured, bytes against rows. */
function fitsOf(runs: readonly BatchMemory[]) {
  const line = (y: (run: BatchMemory) => number) => linearFit(runs.map((run) => [run.rows, y(run)] as const));
  return {
    redis: {
      redis_peak: line((run) => run.redis.peak),
      history: line((run) => run.history.bytes),
      batch_peak: line((run) => run.redis.batchPeak),
    },
    rss: {
      scan_rss: line((run) => run.scanPeakRssMb * 1024 ** 2),
      worker_rss: line((run) => run.workerPeakRssMb * 1024 ** 2),
    },
  } satisfies Record<string, Record<string, LinearFit>>;
}

type RedisFits = ReturnType<typeof fitsOf>['redis'];

interface Projected {
  readonly rows: number;
  readonly figures: Record<string, unknown>;
  readonly lines: readonly (readonly [label: string, value: string])[];
}

/**
 * Redis at `rows` from the lines, and per master of each cluster size: the history by the buckets each
 * master holds, and the batch's own keys (one hash tag) on the master of that tag. The batch's keys are
 * taken at their peak and the history whole, though the batch's keys peak before the history is all written:
 * a bound from above.
 */
function projectTo(rows: number, fits: RedisFits, baseline: number): Projected {
  const text = (bytes: number) => `${Math.round(bytes / 1024 ** 2).toLocaleString('en')} MB`;
  const at = (fit: LinearFit) => Math.max(0, fit.at(rows));
  const memory = { baseline, history: at(fits.history), batchPeak: at(fits.batch_peak) };
  const figures: Record<string, unknown> = Object.fromEntries(
    Object.entries(fits).map(([name, fit]) => [`${name}_mb`, mb(at(fit))]),
  );
  const lines: [string, string][] = [
    ['Redis peak, one server', text(at(fits.redis_peak))],
    ['the history', text(memory.history)],
    ["the batch's own keys at their peak", text(memory.batchPeak)],
  ];
  for (const masters of MASTERS) {
    const shares = clusterShares(masters);
    const perMaster = memoryPerMaster(shares, memory);
    const held = shares.bucketsPerMaster;
    figures[`masters_${masters}`] = {
      busiest_mb: mb(Math.max(perMaster.batchMaster, perMaster.largestOther)),
      with_batch_keys_mb: mb(perMaster.batchMaster),
      largest_other_mb: mb(perMaster.largestOther),
      even_split_mb: mb(perMaster.even),
      buckets_per_master: held,
    };
    const othersHeld = Math.max(...held.filter((_, master) => master !== shares.batchMaster));
    lines.push(
      [
        `${masters} masters: the batch's keys + ${held[shares.batchMaster]} of ${shares.buckets} buckets`,
        text(perMaster.batchMaster),
      ],
      [`${masters} masters: the largest other, ${othersHeld} buckets`, text(perMaster.largestOther)],
    );
  }
  return { rows, figures, lines };
}

/** The sizes measured, one line each. */
function logMeasured(runs: readonly BatchMemory[], log: (line: string) => void) {
  const columns = [
    ['rows', (run: BatchMemory) => run.rows.toLocaleString('en')],
    ['seconds', (run: BatchMemory) => round(run.seconds, 1).toString()],
    ['scan RSS MB', (run: BatchMemory) => round(run.scanPeakRssMb, 0).toString()],
    ['worker RSS MB', (run: BatchMemory) => round(run.workerPeakRssMb, 0).toString()],
    ['Redis peak MB', (run: BatchMemory) => mb(run.redis.peak).toString()],
    ['MB per 1M rows', (run: BatchMemory) => mb(redisPerMillion(run)).toString()],
    ["batch's keys MB", (run: BatchMemory) => mb(run.redis.batchPeak).toString()],
    ['after MB', (run: BatchMemory) => mb(run.redis.withoutHistory).toString()],
    ['history B/number', (run: BatchMemory) => round(run.history.bytes / run.history.numbers, 0).toString()],
  ] as const;
  const widths = columns.map(([title]) => Math.max(title.length, 8) + 2);
  const row = (cells: readonly string[]) =>
    log(cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(''));
  log('');
  row(columns.map(([title]) => title));
  for (const run of runs) row(columns.map(([, value]) => value(run)));
}

function logProjection(
  runs: readonly BatchMemory[],
  projection: readonly Projected[],
  log: (line: string) => void,
) {
  const width = 50;
  const column = 20;
  log('');
  log(
    `projection (least-squares lines through ${runs.map((run) => run.rows.toLocaleString('en')).join(', ')} rows):`,
  );
  log(
    `${''.padEnd(width)}${projection.map((p) => `${p.rows.toLocaleString('en')} rows`.padStart(column)).join('')}`,
  );
  const labels = projection[0]?.lines.map(([label]) => label) ?? [];
  labels.forEach((label, i) =>
    log(`${label.padEnd(width)}${projection.map((p) => (p.lines[i]?.[1] ?? '').padStart(column)).join('')}`),
  );
}

/** Bounded RSS, and Redis in proportion to the rows: the largest size against the smallest. */
function flatness(runs: readonly BatchMemory[]): Pick<ScenarioResult, 'checks'> & { ratios: object } {
  const small = runs[0];
  const large = runs.at(-1);
  if (!small || !large || small === large) return { ratios: {}, checks: [] };
  const ratios = {
    scan_rss: large.scanPeakRssMb / small.scanPeakRssMb,
    worker_rss: large.workerPeakRssMb / small.workerPeakRssMb,
    redis_peak_per_million_rows: redisPerMillion(large) / redisPerMillion(small),
  };
  return {
    ratios: Object.fromEntries(Object.entries(ratios).map(([name, ratio]) => [name, round(ratio, 2)])),
    checks: [
      { name: `scan RSS: largest ≤ ${RSS_GROWTH_MAX} × smallest`, pass: ratios.scan_rss <= RSS_GROWTH_MAX },
      {
        name: `worker RSS: largest ≤ ${RSS_GROWTH_MAX} × smallest`,
        pass: ratios.worker_rss <= RSS_GROWTH_MAX,
      },
      {
        name: `Redis peak per million rows: largest within ±${PER_MILLION_TOLERANCE * 100}% of smallest`,
        pass: Math.abs(ratios.redis_peak_per_million_rows - 1) <= PER_MILLION_TOLERANCE,
      },
    ],
  };
}
