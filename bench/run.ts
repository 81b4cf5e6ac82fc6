/**
 * reachscan's benchmarks: `npm run bench [-- --scenario B1,B3] [--scale 0.2 | --quick]`.
 *
 * Without --scenario, every scenario but the opt-in ones (B6, the 10-million-row projection: 8 million rows
 * in all). Each scenario starts its own redis-server and simulator; sizes are the issue's at --scale 1 and
 * shrink with it (--quick = 0.05, about a minute). Prints a table and writes bench/results/<date>.json with
 * the machine's cores, memory, Node and Redis versions. Ratios are measured side by side in one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedisServer } from '../src/queue/private-redis.js';
import { machineInfo, stopDescendantsOnSignal } from './lib/harness.js';
import type { Scenario, ScenarioResult } from './lib/scenario.js';
import { b1Overhead } from './scenarios/b1-overhead.js';
import { b2RateCap } from './scenarios/b2-rate-cap.js';
import { b3Memory } from './scenarios/b3-memory.js';
import { b4Ingest } from './scenarios/b4-ingest.js';
import { b5ScaleOut } from './scenarios/b5-scale-out.js';
import { b6Projection } from './scenarios/b6-projection.js';
import { b7Camara } from './scenarios/b7-camara.js';

const SCENARIOS: readonly Scenario[] = [
  b1Overhead,
  b2RateCap,
  b3Memory,
  b4Ingest,
  b5ScaleOut,
  b6Projection,
  b7Camara,
];

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    scale: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('npm run bench -- [--scenario B1,B2,B3,B4,B5,B6,B7] [--scale N | --quick] [--profile DIR]');
  console.log(
    '  --profile DIR  write a CPU profile (.cpuprofile) of every reachscan process the scenarios start',
  );
  console.log('  without --scenario: every scenario but those marked "only with --scenario"');
  for (const s of SCENARIOS)
    console.log(`  ${s.id}  ${s.title}${s.defaultRun === false ? ' (only with --scenario)' : ''}`);
  process.exit(0);
}
// Read by startReachscan: each reachscan process it starts writes its CPU profile there (node --cpu-prof).
if (values.profile !== undefined) process.env.REACHSCAN_BENCH_CPU_PROF = resolve(values.profile);
const scale = values.quick ? 0.05 : Number(values.scale ?? '1');
if (!(scale > 0 && scale <= 10)) throw new Error('--scale must be a number above 0 (1 = full sizes)');
const byDefault = SCENARIOS.filter((s) => s.defaultRun !== false);
const wanted = (values.scenario ?? byDefault.map((s) => s.id).join(','))
  .split(',')
  .map((id) => id.trim().toUpperCase());
const chosen = SCENARIOS.filter((s) => wanted.includes(s.id));
if (chosen.length !== wanted.length) throw new Error(`unknown scenario in ${wanted.join(',')}`);

stopDescendantsOnSignal();
const redisVersion =
  /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
const results: Record<string, ScenarioResult & { title: string; seconds: number }> = {};
for (const scenario of chosen) {
  console.log(`\n${scenario.id} ${scenario.title} (scale ${scale})`);
  const server = await startRedisServer();
  const started = performance.now();
  try {
    const result = await scenario.run({ scale, redisUrl: server.url, log: (l) => console.log(`  ${l}`) });
    results[scenario.id] = {
      ...result,
      title: scenario.title,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await server.stop();
  }
}

console.log('\nscenario  figure                                     value');
for (const [id, r] of Object.entries(results)) {
  for (const [key, value] of flatten(r.figures)) console.log(`${id.padEnd(9)} ${key.padEnd(42)} ${value}`);
  for (const check of r.checks)
    console.log(`${id.padEnd(9)} ${`target: ${check.name}`.padEnd(42)} ${check.pass ? 'met' : 'MISSED'}`);
}
const date = new Date().toISOString().slice(0, 10);
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const path = join(dir, `${date}.json`);
// A run of some scenarios updates those in the day's file and keeps the others (each says when and at what scale).
const earlier = existsSync(path)
  ? (JSON.parse(readFileSync(path, 'utf8')) as { results?: Record<string, unknown> }).results
  : undefined;
const measuredAt = new Date().toISOString();
const stamped = Object.fromEntries(
  Object.entries(results).map(([id, r]) => [id, { ...r, measured_at: measuredAt, scale }]),
);
writeFileSync(
  path,
  `${JSON.stringify({ date, machine: machineInfo(redisVersion), results: { ...earlier, ...stamped } }, null, 2)}\n`,
);
console.log(`\nwritten: ${path}`);
process.exit(0);

function* flatten(value: unknown, prefix = ''): Generator<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) yield* flatten(v, prefix === '' ? k : `${prefix}.${k}`);
  } else yield [prefix, JSON.stringify(value)];
}
