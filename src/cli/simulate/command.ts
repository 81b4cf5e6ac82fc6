import { createPublicKey, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, UsageError } from '../../core/errors.js';
import type {
  CamaraErrorCode,
  CamaraShape,
  DialsPatch,
  FaultRates,
  InsightName,
} from '../../simulator/dials.js';
import type { createThrowawayApplication, OperatorCredentials } from '../../simulator/index.js';
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
  'fault-unauthorized': 'unauthorized',
  'fault-invalid-purpose': 'invalidPurpose',
  'fault-permission-denied': 'permissionDenied',
  'fault-400': 'http400',
  'fault-422': 'http422',
};

type SimulateValues = ReturnType<typeof parseSimulateArgs>;

/** The application the simulator accepts, and where clients find its private key. */
interface SimulatedKey {
  readonly applicationId: string;
  readonly publicKey: string;
  /** The private key file to point clients at; null with --public-key (the caller holds the private half). */
  readonly keyFile: string | null;
  /** The key pair was already at --key-out and is used again. */
  readonly keyReused: boolean;
  /** Removes a key file written to a temporary folder. */
  readonly cleanup: () => void;
}

export async function runSimulate(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const values = parseSimulateArgs(argv);
  if (values.help) {
    io.stdout.write(SIMULATE_HELP);
    return EXIT.ok;
  }
  const dials = simulatorDials(values);
  const port = numberFlag(values.port, 'port', { max: 65_535 }) ?? 4010;
  const anchorMs = anchorOf(values);
  const simulator = await import('../../simulator/index.js');
  const key = simulatedKey(values, simulator.createThrowawayApplication);
  // Derived from the application key: a key kept at --key-out keeps the operator's credentials too.
  const operator = simulator.operatorCredentials(key.publicKey);
  let sim;
  try {
    sim = await simulator.startSimulator({
      host: values.host,
      port,
      applications: [{ applicationId: key.applicationId, publicKey: key.publicKey }],
      operatorClients: [{ clientId: operator.clientId, clientSecret: operator.clientSecret }],
      apiKeys: [operator.apiKey],
      dials,
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      ...(anchorMs !== undefined ? { anchorMs } : {}),
    });
  } catch (error) {
    key.cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(`port ${port} is in use; pick another with --port (0 = any free port)`);
    // A dial the simulator refuses (--camara-shape, --camara-error): its message names it.
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  // Listening for the stop signal before saying where it listens: whoever reads that line may stop it at once.
  const stopped = io.stopSignal;
  io.stdout.write(howToConnect(sim.url, values.seed, key, operator));
  const signal = await stopped;
  io.stderr.write(`reachscan simulator: ${signal}, stopping\n`);
  await sim.close();
  key.cleanup();
  return EXIT.ok;
}

/** The flags, or one usage line for an unknown flag or a missing value. */
function parseSimulateArgs(argv: readonly string[]) {
  try {
    return parseArgs({
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
        'refused-insights': { type: 'string' },
        'refuse-combined-scopes': { type: 'boolean', default: false },
        'camara-shape': { type: 'string' },
        'camara-error': { type: 'string' },
        'camara-error-api': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        ...Object.fromEntries(Object.keys(FAULT_FLAGS).map((f) => [f, { type: 'string' as const }])),
      },
    }).values;
  } catch (error) {
    throw asUsageError(error);
  }
}

/** The dials the simulator starts with: latency, rate cap, auth behaviour and the fault rates. */
function simulatorDials(values: SimulateValues): DialsPatch {
  const faults: Partial<Record<keyof FaultRates, number>> = {};
  for (const [flag, name] of Object.entries(FAULT_FLAGS)) {
    const rate = numberFlag(values[flag as keyof typeof values] as string | undefined, flag, {
      min: 0,
      max: 1,
      integer: false,
    });
    if (rate !== undefined) faults[name] = rate;
  }
  return {
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
    refusedInsights: refusedInsightsOf(values['refused-insights']),
    ...camaraDials(values),
    faults,
  };
}

/** The simulator's insight names (a type import only: the simulator itself is loaded on demand). */
const INSIGHT_NAMES: readonly InsightName[] = ['reachability', 'roaming'];

/** --refused-insights reachability,roaming: which insights the refusal faults refuse. */
function refusedInsightsOf(value: string | undefined): InsightName[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(INSIGHT_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0 || new Set(names).size !== names.length)
    throw new UsageError(
      `--refused-insights takes ${INSIGHT_NAMES.join(' and/or ')}, comma-separated, each once (got "${value}")`,
    );
  return names as InsightName[];
}

/** The CAMARA operator's dials; the simulator checks the values (a bad one is a one-line error). */
function camaraDials(values: SimulateValues): DialsPatch {
  const api = values['camara-error-api'];
  if (api !== undefined && !['both', 'reachability', 'roaming'].includes(api))
    throw new UsageError(`--camara-error-api must be both, reachability or roaming (got "${api}")`);
  return {
    refuseCombinedScopes: values['refuse-combined-scopes'],
    ...(values['camara-shape'] !== undefined ? { camaraShape: values['camara-shape'] as CamaraShape } : {}),
    ...(values['camara-error'] !== undefined
      ? { camaraError: values['camara-error'].toUpperCase() as CamaraErrorCode }
      : {}),
    ...(api !== undefined ? { camaraErrorApi: api as 'both' | 'reachability' | 'roaming' } : {}),
  };
}

/** --anchor as ms since the epoch, or undefined when not given. */
function anchorOf(values: SimulateValues): number | undefined {
  if (values.anchor === undefined) return undefined;
  const anchorMs = Date.parse(values.anchor);
  if (Number.isNaN(anchorMs))
    throw new UsageError(`--anchor must be an ISO date such as 2026-01-31 (got "${values.anchor}")`);
  return anchorMs;
}

/**
 * The application key: --public-key as given, else the key pair already at --key-out, else a new throwaway
 * one written to --key-out (or a temporary folder).
 */
function simulatedKey(
  values: SimulateValues,
  throwawayApplication: typeof createThrowawayApplication,
): SimulatedKey {
  let applicationId = values['application-id'];
  if (values['public-key'] !== undefined) {
    if (applicationId === undefined) throw new UsageError('--public-key needs --application-id');
    let publicKey: string;
    try {
      publicKey = readFileSync(values['public-key'], 'utf8');
      createPublicKey(publicKey);
    } catch {
      throw new UsageError(`--public-key ${values['public-key']}: not a readable PEM public key`);
    }
    return { applicationId, publicKey, keyFile: null, keyReused: false, cleanup: () => {} };
  }
  let keyFile = values['key-out'] !== undefined ? resolve(values['key-out']) : null;
  // A key pair already at --key-out is kept, so clients holding that file (workers started before a restart
  // of the simulator) are still accepted.
  const kept = keyFile !== null ? publicKeyOfKeyFile(keyFile) : null;
  if (kept !== null) {
    applicationId ??= randomUUID();
    return { applicationId, publicKey: kept, keyFile, keyReused: true, cleanup: () => {} };
  }
  const app = throwawayApplication(applicationId);
  let cleanup = () => {};
  if (keyFile !== null) {
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'reachscan-sim-'));
    keyFile = join(dir, 'private.key');
    cleanup = () => rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(keyFile, app.privateKeyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return {
    applicationId: app.applicationId,
    publicKey: app.publicKeyPem,
    keyFile,
    keyReused: false,
    cleanup,
  };
}

/** What the simulator prints once it listens: the settings that point reachscan at it. */
function howToConnect(
  url: string,
  seed: string | undefined,
  key: SimulatedKey,
  operator: OperatorCredentials,
): string {
  // Listening on every interface: clients on this machine still reach it through loopback.
  const clientUrl = url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
  return [
    `reachscan simulator listening on ${url} (seed ${seed ?? 'reachscan'})`,
    ...(key.keyReused ? [`Reusing the key pair in ${key.keyFile} (delete that file for a new one).`] : []),
    'Point reachscan at it with:',
    `  export VONAGE_API_BASE_URL=${clientUrl}`,
    `  export VONAGE_APPLICATION_ID=${key.applicationId}`,
    ...(key.keyFile !== null
      ? [`  export VONAGE_PRIVATE_KEY_PATH=${key.keyFile}`]
      : ['  (sign with the private half of --public-key)']),
    'and, for --provider camara (CAMARA_AUTH may be client-credentials, ciba or api-key):',
    `  export CAMARA_API_BASE_URL=${clientUrl}`,
    '  export CAMARA_AUTH=client-credentials',
    `  export CAMARA_TOKEN_URL=${clientUrl}/oidc/token`,
    `  export CAMARA_AUTHORIZE_URL=${clientUrl}/oidc/bc-authorize`,
    `  export CAMARA_CLIENT_ID=${operator.clientId}`,
    `  export CAMARA_CLIENT_SECRET=${operator.clientSecret}`,
    `  export CAMARA_API_KEY=${operator.apiKey}`,
    `Counters: ${url}/_sim/stats   Dials: ${url}/_sim/dials   Stop with Ctrl-C.`,
    '',
  ].join('\n');
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
