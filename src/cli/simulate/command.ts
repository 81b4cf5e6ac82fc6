import { createPublicKey, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, UsageError } from '../../core/errors.js';
import type { DialsPatch, FaultRates } from '../../simulator/dials.js';
import { asUsageError } from '../args.js';
import { numberFlag } from '../../config/options.js';
import { parsePrivateKey } from '../../config/vonage.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { SIMULATE_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const FAULT_FLAGS: Readonly<Record<string, keyof FaultRates>> = {
  'fault-500': 'http500',
  'fault-503': 'http503',
  'fault-429': 'http429',
  'fault-drop': 'drop',
  'fault-timeout': 'timeout',
  'fault-malformed': 'malformed',
  'fault-supplier-error': 'supplierError',
  'fault-internal-error': 'internalError',
};

export async function runSimulate(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '4010' },
        seed: { type: 'string' },
        anchor: { type: 'string' },
        'application-id': { type: 'string' },
        'public-key': { type: 'string' },
        'key-out': { type: 'string' },
        'latency-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        'rate-cap': { type: 'string' },
        'no-retry-after': { type: 'boolean', default: false },
        'slow-response-ms': { type: 'string' },
        'auth-pending-share': { type: 'string' },
        'auth-interval-s': { type: 'string' },
        'auth-request-ttl-s': { type: 'string' },
        'access-token-ttl-s': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        ...Object.fromEntries(Object.keys(FAULT_FLAGS).map((f) => [f, { type: 'string' as const }])),
      },
    }));
  } catch (error) {
    throw asUsageError(error);
  }
  if (values.help) {
    io.stdout.write(SIMULATE_HELP);
    return EXIT.ok;
  }
  const faults: Partial<Record<keyof FaultRates, number>> = {};
  for (const [flag, name] of Object.entries(FAULT_FLAGS)) {
    const rate = numberFlag(values[flag as keyof typeof values] as string | undefined, flag, {
      min: 0,
      max: 1,
      integer: false,
    });
    if (rate !== undefined) faults[name] = rate;
  }
  const dials: DialsPatch = {
    latencyMs: numberFlag(values['latency-ms'], 'latency-ms'),
    jitterMs: numberFlag(values['jitter-ms'], 'jitter-ms'),
    rateCapPerSecond: numberFlag(values['rate-cap'], 'rate-cap'),
    slowResponseMs: numberFlag(values['slow-response-ms'], 'slow-response-ms'),
    retryAfter: !values['no-retry-after'],
    authPendingShare: numberFlag(values['auth-pending-share'], 'auth-pending-share', {
      min: 0,
      max: 1,
      integer: false,
    }),
    authIntervalS: numberFlag(values['auth-interval-s'], 'auth-interval-s'),
    authRequestTtlS: numberFlag(values['auth-request-ttl-s'], 'auth-request-ttl-s', { min: 1 }),
    accessTokenTtlS: numberFlag(values['access-token-ttl-s'], 'access-token-ttl-s', { min: 1 }),
    faults,
  };
  const port = numberFlag(values.port, 'port', { max: 65_535 }) ?? 4010;
  let anchorMs: number | undefined;
  if (values.anchor !== undefined) {
    anchorMs = Date.parse(values.anchor);
    if (Number.isNaN(anchorMs))
      throw new UsageError(`--anchor must be an ISO date such as 2026-01-31 (got "${values.anchor}")`);
  }
  const { startSimulator, createThrowawayApplication } = await import('../../simulator/index.js');

  let applicationId = values['application-id'];
  let publicKey: string;
  let keyFile: string | null = null;
  let keyReused = false;
  let cleanup = () => {};
  if (values['public-key'] !== undefined) {
    if (applicationId === undefined) throw new UsageError('--public-key needs --application-id');
    try {
      publicKey = readFileSync(values['public-key'], 'utf8');
      createPublicKey(publicKey);
    } catch {
      throw new UsageError(`--public-key ${values['public-key']}: not a readable PEM public key`);
    }
  } else {
    keyFile = values['key-out'] !== undefined ? resolve(values['key-out']) : null;
    // A key pair already at --key-out is kept, so clients holding that file (workers started before a restart
    // of the simulator) are still accepted.
    const kept = keyFile !== null ? publicKeyOfKeyFile(keyFile) : null;
    if (kept !== null) {
      applicationId ??= randomUUID();
      publicKey = kept;
      keyReused = true;
    } else {
      const app = createThrowawayApplication(applicationId);
      applicationId = app.applicationId;
      publicKey = app.publicKeyPem;
      if (keyFile !== null) {
        mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'reachscan-sim-'));
        keyFile = join(dir, 'private.key');
        cleanup = () => rmSync(dir, { recursive: true, force: true });
      }
      writeFileSync(keyFile, app.privateKeyPem, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
    }
  }

  let sim;
  try {
    sim = await startSimulator({
      host: values.host,
      port,
      applications: [{ applicationId, publicKey }],
      dials,
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      ...(anchorMs !== undefined ? { anchorMs } : {}),
    });
  } catch (error) {
    cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(`port ${port} is in use; pick another with --port (0 = any free port)`);
    throw error;
  }
  // Listening on every interface: clients on this machine still reach it through loopback.
  const clientUrl = sim.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
  io.stdout.write(
    [
      `reachscan simulator listening on ${sim.url} (seed ${values.seed ?? 'reachscan'})`,
      ...(keyReused ? [`Reusing the key pair in ${keyFile} (delete that file for a new one).`] : []),
      'Point reachscan at it with:',
      `  export VONAGE_API_BASE_URL=${clientUrl}`,
      `  export VONAGE_APPLICATION_ID=${applicationId}`,
      ...(keyFile !== null
        ? [`  export VONAGE_PRIVATE_KEY_PATH=${keyFile}`]
        : ['  (sign with the private half of --public-key)']),
      `Counters: ${sim.url}/_sim/stats   Dials: ${sim.url}/_sim/dials   Stop with Ctrl-C.`,
      '',
    ].join('\n'),
  );
  const signal = await io.stopSignal;
  io.stderr.write(`reachscan simulator: ${signal}, stopping\n`);
  await sim.close();
  cleanup();
  return EXIT.ok;
}

/**
 * The public key of the private key already at `path`, or null when there is no file there. A file that cannot
 * be read, or holds no RSA private key, is a one-line error naming the path (never the file's text).
 */
function publicKeyOfKeyFile(path: string): string | null {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ConfigError([`--key-out ${path}: cannot be read (${code ?? 'unknown error'})`]);
  }
  const problems: string[] = [];
  const key = parsePrivateKey(pem, `--key-out ${path}`, problems);
  if (key === undefined) {
    throw new ConfigError([
      `${problems[0] ?? `--key-out ${path} is not a private key`}; delete it for a new key pair`,
    ]);
  }
  // Still mode 0600, as when it was written (best effort: the file may belong to someone else).
  try {
    chmodSync(path, 0o600);
  } catch {
    // Only read from here on: a looser mode is the owner's choice.
  }
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
}
