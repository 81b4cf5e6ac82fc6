import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  hasRedisServer,
  startRedisServer,
  type RedisServerHandle,
} from '../../../src/queue/private-redis.js';
import { createThrowawayApplication, NO_FAULTS } from '../../../src/simulator/index.js';
import {
  fileSources,
  lineCount,
  literal,
  offences,
  pattern,
  RedisRecorder,
  runReachscan,
  startRecordingProxy,
  walk,
  type CapturedProcess,
  type Forbidden,
  type RecordingProxy,
  type Source,
} from './capture.js';

/*
 * Runs the real program the ways people do (scan with either provider, scan with separate workers, refused
 * credentials, a carrier in trouble, lookup, serve, watch) logging at every level, under a permissive umask,
 * then checks the modes of what it created and searches everything it said, wrote and left in Redis for
 * secrets, and its logs for full phone numbers.
 */

/** The numbers of the input as people type them, and what they are. */
const PEOPLE = [
  { name: 'Ada', typed: '+447400123451', e164: '+447400123451' },
  { name: 'Alan', typed: '0044 7400 123452', e164: '+447400123452' },
  { name: 'Grace', typed: '07400 123453', e164: '+447400123453' },
  { name: 'Edsger', typed: '+44 7400-123454', e164: '+447400123454' },
  { name: 'Barbara', typed: '+990123400', e164: '+990123400' },
] as const;
/** A file without a header row: its first record is read as the header. */
const HEADERLESS = [
  { typed: '+447400123455', e164: '+447400123455' },
  { typed: '+447400123456', e164: '+447400123456' },
] as const;

const PEOPLE_CSV = `${[
  'customer_id,name,phone,note',
  ...PEOPLE.map((p, i) => `C${i + 1},${p.name},${p.typed.includes(' ') ? `"${p.typed}"` : p.typed},gold`),
  'C9,Nobody,not a number,none',
].join('\n')}\n`;
const HEADERLESS_CSV = `${HEADERLESS.map((p, i) => `${p.typed},Person ${i + 1},gold`).join('\n')}\n`;

const DAY_MS = 86_400_000;
const FILE_MODES = [0o600, 0o640];
const FOLDER_MODES = [0o700, 0o750];

const processes: CapturedProcess[] = [];
/** Processes whose stdout is the command's result (phone numbers are what they print), not a log. */
const resultStreams = new Set<CapturedProcess>();
let root: string;
let marker: string;
let sim: CapturedProcess;
let simUrl: string;
let proxy: RecordingProxy;
let redis: RedisRecorder;
/** A Redis of this file's own when redis-server is there: MONITOR then sees only these runs. */
let ownRedis: RedisServerHandle | null = null;
let redisUrl: string;
let applicationId: string;
let keyFile: string;
let keyPem: string;
const refused = createThrowawayApplication();
const apiToken = randomBytes(24).toString('hex');
/** Folders the program created (their modes, and those of everything in them, are checked). */
const created: string[] = [];
let sharedState: string;
let prefixes = 0;

const pathOf = (...parts: string[]) => join(root, ...parts);

/** The environment of one run: its own queue prefix under this file's marker, every log level on. */
function envFor(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REACHSCAN_QUEUE_PREFIX: `${marker}-${++prefixes}`,
    REACHSCAN_LOG_LEVEL: 'trace',
    REACHSCAN_RETRY_BASE_MS: '20',
    VONAGE_APPLICATION_ID: applicationId,
    VONAGE_PRIVATE_KEY_PATH: keyFile,
    VONAGE_API_BASE_URL: proxy.url,
    ...extra,
  };
}

/** The simulator's CAMARA operator, reached through the recording proxy, for `--provider camara`. */
function camaraEnv(auth: 'client-credentials' | 'ciba' | 'api-key'): Record<string, string> {
  const printed = (name: string) => new RegExp(`export ${name}=(\\S+)`).exec(sim.stdout())?.[1] ?? '';
  return {
    CAMARA_API_BASE_URL: proxy.url,
    CAMARA_AUTH: auth,
    CAMARA_TOKEN_URL: `${proxy.url}/oidc/token`,
    CAMARA_AUTHORIZE_URL: `${proxy.url}/oidc/bc-authorize`,
    CAMARA_CLIENT_ID: printed('CAMARA_CLIENT_ID'),
    CAMARA_CLIENT_SECRET: printed('CAMARA_CLIENT_SECRET'),
    CAMARA_API_KEY: printed('CAMARA_API_KEY'),
  };
}

async function simControl(method: 'PATCH' | 'POST', path: string, body: unknown): Promise<void> {
  const res = await fetch(`${simUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(200);
}

const setDevice = (phone: string, state: unknown) =>
  simControl('POST', '/_sim/devices', { phone_number: phone, state });

async function run(
  label: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | string; p: CapturedProcess }> {
  const p = runReachscan(label, args, env, processes);
  return { code: await p.exited, p };
}

function input(name: string, content: string): string {
  const path = pathOf('in', name);
  writeFileSync(path, content);
  return path;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reachscan-security-'));
  ownRedis = hasRedisServer() ? await startRedisServer() : null;
  redisUrl = ownRedis?.url ?? inject('redisUrl');
  mkdirSync(pathOf('in'));
  marker = `sec-${randomUUID()}`;
  sharedState = `{${marker}-history}:`;
  applicationId = randomUUID();
  // simulate creates the key's folder itself: its mode is checked too.
  keyFile = pathOf('keys', 'sim', 'private.key');
  created.push(pathOf('keys'));
  sim = runReachscan(
    'simulate',
    ['simulate', '--port', '0', '--application-id', applicationId, '--key-out', keyFile],
    { REACHSCAN_LOG_LEVEL: 'trace' },
    processes,
  );
  await sim.waitFor(/listening on http:\/\/\S+/, 20_000);
  simUrl = /listening on (http:\/\/\S+)/.exec(sim.stdout())?.[1] as string;
  keyPem = readFileSync(keyFile, 'utf8');
  proxy = await startRecordingProxy(simUrl);
  redis = new RedisRecorder(redisUrl, `{${marker}*`, marker);
  await redis.start(50);
}, 30_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await redis?.removeKeys().catch(() => undefined);
  await redis?.close();
  await ownRedis?.stop();
  await proxy?.close();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('no secret and no full phone number leaves the program where it must not', () => {
  it('scan, both providers, with the in-process worker (history kept for the next scan)', async () => {
    const people = input('people.csv', PEOPLE_CSV);
    await setDevice('+447400123451', { connectivity: ['DATA', 'SMS'] });
    await setDevice('+447400123452', { connectivity: [], connectivityChangedAt: Date.now() - 90 * DAY_MS });
    await setDevice('+447400123454', { kind: 'unauthorized' });
    created.push(pathOf('out'));
    const ii = await run(
      'scan identity-insights',
      ['scan', people, '--out', pathOf('out', 'ii'), '--default-country', 'GB'],
      envFor({ REACHSCAN_STATE_PREFIX: sharedState }),
    );
    expect(ii.code, ii.p.stderr()).toBe(0); // C9's bad cell is a finding, not a failed lookup
    const ds = await run(
      'scan device-status',
      [
        'scan',
        people,
        '--out',
        pathOf('out', 'ds'),
        '--provider',
        'device-status',
        '--default-country',
        'GB',
      ],
      envFor(),
    );
    expect(ds.code, ds.p.stderr()).toBe(0);
    expect(proxy.exchanges.some((e) => e.path === '/oauth2/token' && e.status === 200)).toBe(true);
    for (const auth of ['client-credentials', 'ciba', 'api-key'] as const) {
      const camara = await run(
        `scan camara ${auth}`,
        [
          'scan',
          people,
          '--out',
          pathOf('out', `camara-${auth}`),
          '--provider',
          'camara',
          '--default-country',
          'GB',
        ],
        envFor(camaraEnv(auth)),
      );
      expect(camara.code, camara.p.stderr()).toBe(0);
    }
    expect(proxy.exchanges.some((e) => e.path === '/oidc/token' && e.status === 200)).toBe(true);
    // A file whose first record is taken for the header: the error names the headers.
    const headerless = input('headerless.csv', HEADERLESS_CSV);
    const bad = await run(
      'scan headerless',
      ['scan', headerless, '--out', pathOf('out', 'headerless')],
      envFor(),
    );
    expect(bad.code, bad.p.stderr()).toBe(2);
  }, 90_000);

  it('scan --no-worker with a separate reachscan worker (changes since the first scan)', async () => {
    await setDevice('+447400123451', { connectivity: [], roaming: { mcc: 262, countries: ['DE'] } });
    // Slow answers keep chunk jobs waiting in Redis long enough to be seen there.
    await simControl('PATCH', '/_sim/dials', { latencyMs: 150 });
    const env = envFor({ REACHSCAN_STATE_PREFIX: sharedState });
    const scan = runReachscan(
      'scan --no-worker',
      [
        'scan',
        pathOf('in', 'people.csv'),
        '--out',
        pathOf('out', 'no-worker'),
        '--default-country',
        'GB',
        '--no-worker',
        '--chunk-size',
        '1',
      ],
      env,
      processes,
    );
    await scan.waitFor(/started batch/);
    await redis.snapshot();
    const worker = runReachscan('worker', ['worker', '--concurrency', '2'], env, processes);
    const code = await scan.exited;
    expect(await worker.stop()).toBe(0);
    await simControl('PATCH', '/_sim/dials', { latencyMs: 0 });
    expect(code, scan.stderr()).toBe(0);
    const changes = readFileSync(pathOf('out', 'no-worker', 'changes.csv'), 'utf8');
    expect(changes).toContain('went_offline');
  }, 90_000);

  it('a key the carrier refuses (401), for scan and lookup, both providers', async () => {
    const inline = { VONAGE_PRIVATE_KEY: refused.privateKeyPem, VONAGE_PRIVATE_KEY_PATH: '' };
    const people = pathOf('in', 'people.csv');
    const ii = await run(
      'scan refused identity-insights',
      ['scan', people, '--out', pathOf('out', 'refused-ii'), '--default-country', 'GB'],
      envFor(inline),
    );
    expect(ii.code, ii.p.stderr()).toBe(3);
    // One line with literal "\n", as .env files and CI secrets carry it.
    const ds = await run(
      'scan refused device-status',
      [
        'scan',
        people,
        '--out',
        pathOf('out', 'refused-ds'),
        '--provider',
        'device-status',
        '--default-country',
        'GB',
      ],
      envFor({ ...inline, VONAGE_PRIVATE_KEY: refused.privateKeyPem.replace(/\n/g, '\\n') }),
    );
    expect(ds.code, ds.p.stderr()).toBe(3);
    const lookup = await run(
      'lookup refused',
      ['lookup', PEOPLE[0].typed, PEOPLE[1].typed, '--default-country', 'GB'],
      envFor(inline),
    );
    resultStreams.add(lookup.p);
    expect(lookup.code, lookup.p.stderr()).toBe(3);
    expect(proxy.exchanges.some((e) => e.status === 401)).toBe(true);
    // Configuration refused before anything runs: the messages name the variable, never its value.
    const halfKey = refused.privateKeyPem.slice(0, refused.privateKeyPem.length / 2);
    const malformed = await run(
      'scan malformed key',
      ['scan', people, '--out', pathOf('out', 'malformed-key')],
      envFor({ VONAGE_PRIVATE_KEY: halfKey, VONAGE_PRIVATE_KEY_PATH: '' }),
    );
    expect(malformed.code, malformed.p.stderr()).toBe(3);
    expect(malformed.p.stderr()).toContain('VONAGE_PRIVATE_KEY is a malformed PEM private key');
    const badToken = await run(
      'serve bad token',
      ['serve', '--port', '0'],
      envFor({ REACHSCAN_API_TOKEN: `${apiToken} x`, REACHSCAN_DATA_DIR: pathOf('api-data-unused') }),
    );
    expect(badToken.code, badToken.p.stderr()).toBe(3);
  }, 90_000);

  it('a carrier in trouble: errors, drops, timeouts, 429s and broken bodies', async () => {
    await simControl('PATCH', '/_sim/dials', {
      slowResponseMs: 1_500,
      faults: {
        http500: 0.1,
        http503: 0.1,
        http429: 0.05,
        drop: 0.1,
        timeout: 0.05,
        malformed: 0.1,
        supplierError: 0.1,
        internalError: 0.05,
      },
    });
    try {
      const people = pathOf('in', 'people.csv');
      const faulty = { REACHSCAN_HTTP_TIMEOUT_MS: '500' };
      for (const provider of ['identity-insights', 'device-status']) {
        const scan = await run(
          `scan faults ${provider}`,
          [
            'scan',
            people,
            '--out',
            pathOf('out', `faults-${provider}`),
            '--provider',
            provider,
            '--default-country',
            'GB',
          ],
          envFor(faulty),
        );
        expect([0, 1], scan.p.stderr()).toContain(scan.code);
      }
      const lookup = await run(
        'lookup faults',
        ['lookup', ...PEOPLE.map((p) => p.typed), '--default-country', 'GB', '--json'],
        envFor(faulty),
      );
      resultStreams.add(lookup.p);
      expect([0, 1], lookup.p.stderr()).toContain(lookup.code);
    } finally {
      await simControl('PATCH', '/_sim/dials', { faults: NO_FAULTS });
    }
    expect(proxy.exchanges.some((e) => ['dropped', 429, 500, 503].includes(e.status))).toBe(true);
  }, 120_000);

  it('a carrier whose errors echo the number and the token it was sent', async () => {
    const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const echoedJwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ application_id: applicationId })}.c2lnbmF0dXJl`;
    const script = (phone: string, responses: unknown[]) =>
      simControl('POST', '/_sim/script', { phone_number: phone, responses });
    try {
      await script('+447400123453', [
        {
          status: 422,
          body: {
            title: 'Invalid parameters',
            detail: 'The phone number +447400123453 is not valid.',
            invalid_parameters: [{ name: 'phone_number', reason: '447400123453 is not a mobile number' }],
          },
        },
      ]);
      await script('+447400123451', [
        { status: 401, body: { title: 'Unauthorized', detail: `Invalid token: Bearer ${echoedJwt}` } },
      ]);
      const lookup = await run(
        'lookup echo',
        ['lookup', ...PEOPLE.map((p) => p.typed), '--default-country', 'GB', '--concurrency', '8'],
        envFor(),
      );
      resultStreams.add(lookup.p);
      expect(lookup.code, lookup.p.stderr()).toBe(3);

      await script('+447400123452', [
        {
          status: 400,
          body: { error: 'invalid_request', error_description: 'login_hint tel:+447400123452 is not valid' },
        },
      ]);
      await script('+447400123454', [
        { status: 401, body: { error: 'invalid_client', error_description: `Invalid token ${echoedJwt}` } },
      ]);
      const scan = await run(
        'scan echo device-status',
        [
          'scan',
          pathOf('in', 'people.csv'),
          '--out',
          pathOf('out', 'echo'),
          '--provider',
          'device-status',
          '--default-country',
          'GB',
        ],
        envFor(),
      );
      expect(scan.code, scan.p.stderr()).toBe(3);
    } finally {
      await simControl('POST', '/_sim/reset', {});
    }
  }, 60_000);

  it('lookup of a few numbers, as a table and as JSON', async () => {
    for (const json of [false, true]) {
      const lookup = await run(
        `lookup${json ? ' --json' : ''}`,
        ['lookup', ...PEOPLE.map((p) => p.typed), '--default-country', 'GB', ...(json ? ['--json'] : [])],
        envFor(),
      );
      resultStreams.add(lookup.p);
      expect([0, 1], lookup.p.stderr()).toContain(lookup.code);
      expect(lookup.p.stdout()).toContain(PEOPLE[0].e164);
    }
  }, 60_000);

  it('serve with an API token: an upload, its progress and its files', async () => {
    const dataDir = pathOf('api-data');
    created.push(dataDir);
    // The key given inline this time.
    const serve = runReachscan(
      'serve',
      ['serve', '--port', '0', '--worker', '--concurrency', '4'],
      envFor({
        REACHSCAN_API_TOKEN: apiToken,
        REACHSCAN_DATA_DIR: dataDir,
        VONAGE_PRIVATE_KEY: keyPem,
        VONAGE_PRIVATE_KEY_PATH: '',
      }),
      processes,
    );
    await serve.waitFor(/listening on http:\/\/\S+/);
    const url = /listening on (http:\/\/\S+)/.exec(serve.stdout())?.[1] as string;
    const bearer = { authorization: `Bearer ${apiToken}` };
    const form = new FormData();
    form.append('file', new Blob([PEOPLE_CSV], { type: 'text/csv' }), 'people.csv');
    form.append('default-country', 'GB');
    const posted = await fetch(`${url}/batches`, { method: 'POST', headers: bearer, body: form });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    const body = await fetch(`${url}/batches?default-country=GB&provider=device-status`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'text/csv' },
      body: PEOPLE_CSV,
    });
    expect(body.status).toBe(202);
    const second = ((await body.json()) as { id: string }).id;
    for (const batch of [id, second]) {
      await expect
        .poll(
          async () =>
            (
              (await (await fetch(`${url}/batches/${batch}`, { headers: bearer })).json()) as {
                state: string;
              }
            ).state,
          { timeout: 45_000, interval: 200 },
        )
        .toBe('done');
    }
    const basic = `Basic ${Buffer.from(`admin:${apiToken}`).toString('base64')}`;
    expect(
      (await fetch(`${url}/batches/${id}/results.csv`, { headers: { authorization: basic } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${url}/metrics`, { headers: { cookie: `reachscan_token=${apiToken}` } })).status,
    ).toBe(200);
    const wrong = await fetch(`${url}/batches/${id}`, { headers: { authorization: `Bearer ${apiToken}x` } });
    expect(wrong.status).toBe(401);
    expect(await serve.stop()).toBe(0);
  }, 90_000);

  it('watch: one file scanned, one failed', async () => {
    const inbox = pathOf('watch', 'inbox');
    const outbox = pathOf('watch', 'out');
    mkdirSync(inbox, { recursive: true });
    created.push(outbox, join(inbox, 'processing'), join(inbox, 'done'), join(inbox, 'failed'));
    const watch = runReachscan(
      'watch',
      [
        'watch',
        inbox,
        '--out',
        outbox,
        '--poll',
        '0.2s',
        '--settle',
        '1s',
        '--lock-ttl',
        '3s',
        '--default-country',
        'GB',
      ],
      envFor(),
      processes,
    );
    await watch.waitFor(/watching /);
    for (const [name, content] of [
      ['people.csv', PEOPLE_CSV],
      ['headerless.csv', HEADERLESS_CSV],
    ] as const) {
      writeFileSync(join(inbox, `.${name}.writing`), content);
      renameSync(join(inbox, `.${name}.writing`), join(inbox, name));
    }
    await watch.waitFor(/done people\.csv/, 45_000);
    await watch.waitFor(/failed headerless\.csv/, 45_000);
    expect(await watch.stop()).toBe(0);
  }, 90_000);

  it('every process has ended, so what it said is complete', async () => {
    await sim.stop();
    await redis.stop();
    const running = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    expect(running.map((p) => p.label)).toEqual([]);
  });

  it('outputs, work folders, the data folder and the key file are for the owner (and group) only', () => {
    const wide: string[] = [];
    for (const folder of created) {
      for (const entry of walk(folder)) {
        const allowed = entry.kind === 'dir' ? FOLDER_MODES : FILE_MODES;
        if (!allowed.includes(entry.mode))
          wide.push(`${entry.path}: ${entry.kind} mode 0${entry.mode.toString(8)}`);
      }
    }
    expect(wide.length, `too wide (files 0600/0640, folders 0700/0750):\n${wide.join('\n')}`).toBe(0);
    expect(walk(keyFile)[0]?.mode).toBe(0o600);
    // Each kind of output is there to be checked.
    const names = created.flatMap((f) => walk(f)).map((e) => e.path);
    for (const name of [
      'results.csv',
      'rejects.csv',
      'changes.csv',
      'no-connectivity-60d.csv',
      'report.json',
      'report.md',
      'report.html',
      'batch.json',
      '.csv.error.txt',
    ])
      expect(
        names.some((n) => n.endsWith(name)),
        name,
      ).toBe(true);
    expect(names.some((n) => n.includes(join('api-data', 'uploads')) && n.endsWith('.csv'))).toBe(true);
    expect(names.some((n) => n.includes(join('inbox', 'done', 'people-')))).toBe(true);
  }, 30_000);

  it('job data holds only what workers need', () => {
    const jobs = [...redis.jobs.values()];
    const batches = jobs
      .filter((j) => j.name === 'batch')
      .map((j) => JSON.parse(j.data) as Record<string, unknown>);
    const chunks = jobs
      .filter((j) => j.name === 'chunk')
      .map((j) => JSON.parse(j.data) as Record<string, unknown>);
    expect(batches.length).toBeGreaterThan(0);
    expect(chunks.length).toBeGreaterThan(0);
    const batchFields = [
      'batchId',
      'inputPath',
      'displayName',
      'outDir',
      'provider',
      'delimiter',
      'headers',
      'phoneColumn',
      'defaultCountry',
      'chunkSize',
      'staleDays',
      'ratePerSecond',
      'history',
      'maxAgeMs',
      'formulaGuard',
      'bom',
      'retryBaseMs',
      'breaker',
      'inputCopy',
      'idColumns',
      'label',
      'xlsx',
      'webhook',
      'submittedAt',
      'step',
      'cursor',
      'purpose',
    ].sort();
    const chunkFields = [
      'batchId',
      'chunk',
      'numbers',
      'provider',
      'ratePerSecond',
      'history',
      'maxAgeMs',
      'breaker',
    ].sort();
    // Only when the batch has them: its budget (--budget) and the prices it is costed at (no secrets).
    const optionalBatchFields = ['budget', 'prices'];
    for (const data of batches) {
      expect(
        Object.keys(data)
          .filter((k) => !optionalBatchFields.includes(k))
          .sort(),
      ).toEqual(batchFields);
      expect(Object.keys(data.cursor as object).sort()).toEqual(['chunks', 'records']);
    }
    for (const data of chunks) expect(Object.keys(data).sort()).toEqual(chunkFields);
    for (const data of [...batches, ...chunks]) {
      expect(Object.keys(data.history as object).sort()).toEqual(['buckets', 'prefix', 'retentionDays']);
      expect(Object.keys(data.breaker as object).sort()).toEqual(['threshold', 'window']);
    }
  }, 30_000);

  it('no private key, JWT, access token, auth_req_id, API token or Authorization value anywhere', () => {
    const jwts = new Set<string>();
    const accessTokens = new Set<string>();
    const authRequests = new Set<string>();
    const authorizations = new Set<string>([
      `Bearer ${apiToken}`,
      `Basic ${Buffer.from(`admin:${apiToken}`).toString('base64')}`,
    ]);
    for (const e of proxy.exchanges) {
      if (e.authorization !== undefined) {
        authorizations.add(e.authorization);
        const bearer = /^Bearer (\S+)$/.exec(e.authorization)?.[1];
        if (bearer?.startsWith('eyJ')) jwts.add(bearer);
        else if (bearer !== undefined) accessTokens.add(bearer);
      }
      const answer = parseObject(e.responseBody);
      if (typeof answer?.access_token === 'string') accessTokens.add(answer.access_token);
      if (typeof answer?.auth_req_id === 'string') authRequests.add(answer.auth_req_id);
      const asked = new URLSearchParams(e.requestBody).get('auth_req_id');
      if (asked) authRequests.add(asked);
    }
    expect(jwts.size).toBeGreaterThan(0);
    expect(accessTokens.size).toBeGreaterThan(0);
    expect(authRequests.size).toBeGreaterThan(0);

    const forbidden: Forbidden[] = [
      pattern('a PEM private key header', /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
      ...[keyPem, refused.privateKeyPem].flatMap((pem) =>
        pem
          .split('\n')
          .filter((l) => l.length >= 16 && !l.startsWith('-----'))
          .map((l) => literal('a line of the private key', l)),
      ),
      pattern('a JWT', /eyJ[\w-]+\.[\w-]+\.[\w-]*/),
      ...[...jwts].map((j) => literal('a JWT sent to the carrier', j)),
      // The simulator's access tokens: 24 random bytes, base64url (mixed case and digits, unlike hex ids).
      pattern(
        'something shaped like an access token',
        /(?<![\w-])(?=[\w-]{32}(?![\w-]))(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[\w-]{32}/,
      ),
      ...[...accessTokens].map((t) => literal('an access token', t)),
      ...[...authRequests].map((id) => literal('an auth_req_id', id)),
      literal('the API token', apiToken),
      ...[...authorizations].map((a) => literal('an Authorization header value', a)),
      pattern('a Bearer or Basic credential', /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}/),
    ];
    const sources: Source[] = [
      ...processStreams(),
      ...fileSources(root, (path) => path.startsWith(pathOf('keys'))),
      ...redis.sources(),
    ];
    expect(sources.filter((s) => s.name.startsWith('redis ')).length).toBeGreaterThan(10);
    const found = offences(sources, forbidden);
    expect(found.length, `secrets leaked:\n${found.join('\n')}`).toBe(0);
    summary('secrets', sources);
  });

  it("the CAMARA client secret and API key nowhere but in the simulator's own instructions", () => {
    const { CAMARA_CLIENT_SECRET: secret, CAMARA_API_KEY: key } = camaraEnv('api-key');
    expect(secret?.length).toBeGreaterThan(20);
    const basic = proxy.exchanges.find((e) => e.path === '/oidc/token')?.authorization ?? '';
    expect(basic).toMatch(/^Basic /);
    const sources: Source[] = [
      ...processStreams().filter((s) => s.name !== 'simulate stdout'),
      ...fileSources(root, (path) => path.startsWith(pathOf('keys'))),
      ...redis.sources(),
    ];
    const found = offences(sources, [
      literal('the CAMARA client secret', secret as string),
      literal('the CAMARA API key', key as string),
      literal('the Basic credential sent to the token endpoint', basic),
    ]);
    expect(found.length, `secrets leaked:\n${found.join('\n')}`).toBe(0);
  });

  it('no full phone number in any log line, at any level', () => {
    const forbidden = [...PEOPLE, ...HEADERLESS].flatMap(numberForms);
    const logs = processStreams().filter((s) => !s.name.endsWith(' stdout (results)'));
    expect(logs.some((s) => s.text.includes('"level":20'))).toBe(true);
    const found = offences(logs, forbidden);
    expect(found.length, `full phone numbers in logs:\n${found.join('\n')}`).toBe(0);
    summary('numbers', logs);
  });
});

function processStreams(): Source[] {
  return processes.flatMap((p) => [
    { name: `${p.label} stderr`, text: p.stderr() },
    { name: `${p.label} stdout${resultStreams.has(p) ? ' (results)' : ''}`, text: p.stdout() },
  ]);
}

/** A number as typed, in E.164, and its digits with and without the country code. */
function numberForms(p: { typed: string; e164: string }): Forbidden[] {
  const digits = (value: string, what: string) =>
    pattern(`${p.e164} (${what})`, new RegExp(`(?<!\\d)${value}(?!\\d)`));
  const national = parsePhoneNumberFromString(p.e164)?.nationalNumber;
  return [
    literal(`${p.e164} (as typed)`, p.typed),
    literal(`${p.e164} (E.164)`, p.e164),
    digits(p.e164.slice(1), 'digits'),
    ...(national !== undefined && national.length >= 8 ? [digits(national, 'national digits')] : []),
  ];
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What was searched, when asked for (REACHSCAN_TEST_SUMMARY=1). */
function summary(what: string, sources: readonly Source[]): void {
  if (process.env.REACHSCAN_TEST_SUMMARY !== '1') return;
  const files = sources.filter((s) => s.name.startsWith('/')).length;
  const keys = sources.filter((s) => s.name.startsWith('redis ') && s.name !== 'redis MONITOR').length;
  process.stderr.write(
    `${what}: ${sources.length} sources (${files} files, ${keys} Redis keys, ${processes.length} processes), ${lineCount(sources)} lines\n`,
  );
}
