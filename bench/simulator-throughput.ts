/**
 * How many lookups per second the Identity Insights provider and the simulator sustain together on this
 * machine, with no latency and no cap: the ceiling every later benchmark sits under.
 *
 *   npm run bench -- [--numbers 20000] [--concurrency 32]
 *
 * Two set-ups, measured in one run: simulator in this process, and simulator in its own process (as in
 * real use, where the carrier is elsewhere).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { loadVonageConfig, type VonageConfig } from '../src/config/vonage.js';
import { asE164, type E164 } from '../src/core/e164.js';
import { silentLogger } from '../src/logging/logger.js';
import { createProvider } from '../src/providers/create-provider.js';
import { createThrowawayApplication, startSimulator } from '../src/simulator/index.js';

const { values } = parseArgs({
  options: { numbers: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '32' } },
});
const count = Number(values.numbers);
const concurrency = Number(values.concurrency);
const numbers: E164[] = Array.from({ length: count }, (_, i) => asE164(`+4474${String(i).padStart(8, '0')}`));

async function drive(config: VonageConfig): Promise<{ perSecond: number; answered: number }> {
  const provider = createProvider(config, { logger: silentLogger(), connections: concurrency });
  const limit = pLimit(concurrency);
  // Warm-up: connections, JIT, the first JWT.
  await Promise.all(numbers.slice(0, 500).map((n) => limit(() => provider.lookup(n))));
  const started = performance.now();
  const outcomes = await Promise.all(numbers.map((n) => limit(() => provider.lookup(n))));
  const seconds = (performance.now() - started) / 1000;
  await provider.close();
  return { perSecond: count / seconds, answered: outcomes.filter((o) => o.kind === 'answered').length };
}

async function inProcess() {
  const app = createThrowawayApplication();
  const sim = await startSimulator({
    applications: [{ applicationId: app.applicationId, publicKey: app.publicKeyPem }],
  });
  try {
    return await drive(
      loadVonageConfig({
        VONAGE_APPLICATION_ID: app.applicationId,
        VONAGE_PRIVATE_KEY: app.privateKeyPem,
        VONAGE_API_BASE_URL: sim.url,
      }),
    );
  } finally {
    await sim.close();
  }
}

async function separateProcess() {
  const dir = mkdtempSync(join(tmpdir(), 'reachscan-bench-'));
  const keyFile = join(dir, 'private.key');
  const applicationId = randomUUID();
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', 'bin', 'reachscan.js'),
      'simulate',
      '--port',
      '0',
      '--application-id',
      applicationId,
      '--key-out',
      keyFile,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    });
    return await drive(
      loadVonageConfig({
        VONAGE_APPLICATION_ID: applicationId,
        VONAGE_PRIVATE_KEY_PATH: keyFile,
        VONAGE_API_BASE_URL: url,
      }),
    );
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`simulator + Identity Insights client: ${count} numbers, concurrency ${concurrency}`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
for (const [name, run] of [
  ['simulator in this process', inProcess],
  ['simulator in its own process', separateProcess],
] as const) {
  const r = await run();
  console.log(
    `${name.padEnd(30)} ${r.perSecond.toFixed(0).padStart(7)} lookups/s  (${r.answered}/${count} answered)`,
  );
}
