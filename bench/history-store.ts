/**
 * What the history costs in Redis: scans a generated file of N numbers twice (two simulated days, so states
 * carry history fields) against the simulator and a private redis-server, then measures the state hashes.
 *
 *   npm run bench:history -- [--numbers 20000]
 *   REACHSCAN_STATE_SECRET=… npm run bench:history   (entries named by an HMAC of the number)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { main } from '../src/cli/main.js';
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
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>)
    keys.push(...batch);
  const sample = keys.slice(0, 2000);
  const sizes = await Promise.all(sample.map((k) => redis.memory('USAGE', k, 'SAMPLES', 0)));
  const perKey = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0) / sample.length;
  const fields = await Promise.all(sample.slice(0, 200).map((k) => redis.hlen(k)));
  // What the history alone holds: used_memory with it, then without it.
  const withHistory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  const withoutHistory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  console.log(`numbers:                    ${count}`);
  console.log(`state hashes:               ${keys.length}`);
  console.log(`MEMORY USAGE per hash:      ${perKey.toFixed(0)} B (mean of ${sample.length}, key included)`);
  console.log(
    `used_memory per number:     ${((withHistory - withoutHistory) / keys.length).toFixed(0)} B (allocator overhead included)`,
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
