/**
 * What the history costs in Redis: scans a generated file of N numbers twice (two simulated days, so states
 * carry history fields) against the simulator and a private redis-server, then measures the state hashes.
 *
 *   npm run bench:history -- [--numbers 20000]
 *   REACHSCAN_STATE_SECRET=… npm run bench:history   (entries named by an HMAC of the number)
 *   REACHSCAN_STATE_BUCKETS=1 npm run bench:history  (the single-slot layout; default 64 buckets)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { main } from '../src/cli/main.js';
import { historyKeyPattern, parseHistoryKey } from '../src/history/number-key.js';
import { startRedisServer } from '../src/queue/private-redis.js';

const { values } = parseArgs({ options: { numbers: { type: 'string', default: '20000' } } });
const count = Number(values.numbers);
const dir = mkdtempSync(join(tmpdir(), 'reachscan-bench-history-'));
const file = join(dir, 'fleet.csv');
writeFileSync(
  file,
  ['id,phone', ...Array.from({ length: count }, (_, i) => `${i},+4474${String(i).padStart(8, '0')}`)].join(
    '\n',
  ),
);
const redisServer = await startRedisServer();
const redis = new Redis(redisServer.url);
const sink = new Writable({ write: (_c, _e, done) => done() });
// The default prefix's length, so the figures are what a real store costs.
const prefix = '{reachscan-state}:';
let offset = 0;
const secret = process.env.REACHSCAN_STATE_SECRET;
const clock = () => Date.now() + offset;

async function scanOnce(): Promise<number> {
  const started = performance.now();
  const code = await main(['scan', file, '--out', join(dir, `out-${offset}`), '--simulate'], {
    stdout: sink,
    stderr: sink,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redisServer.url,
      REACHSCAN_STATE_PREFIX: prefix,
      ...(process.env.REACHSCAN_STATE_BUCKETS !== undefined
        ? { REACHSCAN_STATE_BUCKETS: process.env.REACHSCAN_STATE_BUCKETS }
        : {}),
      ...(secret !== undefined ? { REACHSCAN_STATE_SECRET: secret } : {}),
    },
    stopSignal: new Promise(() => {}),
    clock,
  });
  if (code > 1) throw new Error(`scan exited ${code}`);
  return (performance.now() - started) / 1000;
}

try {
  const baseline = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const first = await scanOnce();
  offset = 86_400_000;
  const second = await scanOnce();
  // Every key of the history: in every bucket (`{reachscan-state:7}:…`) and the prefix's own slot (SCAN may
  // return a key twice).
  const found = new Set<string>();
  const match = historyKeyPattern(prefix);
  for await (const batch of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>)
    for (const key of batch) found.add(key);
  const keys = [...found];
  const states = keys.filter((k) => parseHistoryKey(prefix, k)?.kind === 'state');
  const sample = states.slice(0, 2000);
  const sizes = await Promise.all(sample.map((k) => redis.memory('USAGE', k, 'SAMPLES', 0)));
  const perKey = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0) / sample.length;
  const fields = await Promise.all(sample.slice(0, 200).map((k) => redis.hlen(k)));
  const others = keys.filter((k) => parseHistoryKey(prefix, k)?.kind !== 'state');
  const otherSizes = await Promise.all(others.map((k) => redis.memory('USAGE', k, 'SAMPLES', 0)));
  const otherBytes = otherSizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  // What the history alone holds: used_memory with it, then without it.
  const withHistory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  const withoutHistory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  console.log(`numbers:                    ${count}`);
  console.log(
    `state hashes:               ${states.length} (+ ${keys.length - states.length} other keys: dictionaries, layout, run log)`,
  );
  console.log(`MEMORY USAGE per hash:      ${perKey.toFixed(0)} B (mean of ${sample.length}, key included)`);
  console.log(
    `used_memory per number:     ${((withHistory - withoutHistory) / states.length).toFixed(1)} B (allocator overhead and the other keys included)`,
  );
  console.log(
    `other keys per number:      ${(otherBytes / states.length).toFixed(1)} B by MEMORY USAGE (${others.length} keys, ${otherBytes} B)`,
  );
  console.log(`used_memory:                ${baseline} B empty, ${withHistory} B after both scans`);
  console.log(
    `fields per hash:            ${(fields.reduce((a, b) => a + b, 0) / fields.length).toFixed(1)}`,
  );
  console.log(`scan day 1 / day 2:         ${first.toFixed(1)} s / ${second.toFixed(1)} s`);
} finally {
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
