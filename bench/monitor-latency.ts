/**
 * Push monitoring latency: how long after the operator sends a CloudEvent the change is in the history and
 * the `device.changed` webhook reaches its receiver.
 *
 *   npm run bench:monitor -- [--devices 200] [--events 1000] [--rate 50]
 *
 * Every part is real and separate: a private redis-server, the simulator as its own process (the operator,
 * over HTTP), `reachscan serve` as its own process (receives the events at /events/camara and, as serve does
 * without --worker, delivers the webhooks), and a local receiver here that verifies each signature with the
 * standardwebhooks package. `reachscan monitor start` subscribes the fleet; then `--events` device changes are
 * driven through `POST /_sim/devices`, `--rate` a second, each one making the simulator post one CloudEvent.
 *
 * Clock: every latency starts at the CloudEvent's `time`, which the simulator stamps (Date.now(), whole ms)
 * when it builds the event, right before it posts it: the operator's own word for when the change happened.
 * "History" is when the change record reached Redis (a keyspace notification on the changes list, which the
 * fold pushes after it wrote the number's state); "webhook" is when the receiver had the whole request.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { stateSecretFromEnv } from '../src/config/privacy.js';
import { historyOptions } from '../src/config/settings.js';
import type { EventChange } from '../src/history/monitor-store.js';
import { nextState } from '../src/history/number-state.js';
import { encodeState, StateStore } from '../src/history/state-store.js';
import type { RedisClient } from '../src/queue/connection.js';
import { freePort, startRedisServer } from '../src/queue/private-redis.js';
import { spawnReachscan, type ReachscanProcess } from '../test/support/reachscan-process.js';
import { carrierAnswer } from '../test/support/rows.js';
import { startSimulatorProcess } from '../test/support/simulator-process.js';
import {
  machineInfo,
  processCpuSeconds,
  redisCpuSeconds,
  round,
  scratch,
  simulatorEnv,
} from './lib/harness.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    events: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '50' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('npm run bench:monitor -- [--devices 200] [--events 1000] [--rate 50]');
  console.log('  --devices N  numbers subscribed (reachability: 3 subscriptions each)');
  console.log('  --events N   device changes driven through the simulator, one CloudEvent each');
  console.log('  --rate R     changes a second, spread evenly');
  process.exit(0);
}
const DEVICES = positiveInteger('devices', values.devices, 100_000);
const EVENTS = positiveInteger('events', values.events, 100_000);
const RATE = positiveInteger('rate', values.rate, 2_000);
/** How long to wait for the last deliveries, and then for late duplicates. */
const DRAIN_MS = 60_000;
const SETTLE_MS = 1_000;
/** Longer than the first webhook retries (REACHSCAN_WEBHOOK_RETRY_BASE_MS, 1 s, doubling). */
const QUIET_MS = 10_000;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function positiveInteger(name: string, value: string, max: number): number {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1 && n <= max) return n;
  console.error(`bench:monitor: --${name} must be a whole number from 1 to ${max}, not ${value}`);
  process.exit(2);
}

/** Wall-clock ms with sub-ms precision, comparable with the simulator's Date.now(). */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Arrival {
  readonly at: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}

/** The webhook receiver: stamps each request when its body is complete, verifies later. */
async function startReceiver() {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push({ at: now(), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { arrivals, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The fleet: valid UK mobile numbers, one per device. */
const fleet = Array.from({ length: DEVICES }, (_, i) => `+447911${String(100_000 + i)}`);
const online = { connectivity: ['DATA'], roaming: null };
const offline = { connectivity: [], roaming: null };

async function setDevice(simUrl: string, phoneNumber: string, state: object): Promise<void> {
  const response = await fetch(`${simUrl}/_sim/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number: phoneNumber, state }),
  });
  if (response.status !== 200) throw new Error(`POST /_sim/devices answered ${response.status}`);
  await response.body?.cancel();
}

/** What an earlier scan found: every device online at home, so each event is a change from a known state. */
async function seedHistory(redis: RedisClient, env: Record<string, string>): Promise<void> {
  const states = historyStore(redis, env);
  const checkedAt = Date.now() - 60_000;
  const answer = carrierAnswer({ connectivity: 'DATA' });
  await states.write(
    fleet.map((n) => [n, encodeState(nextState(null, answer, 'camara', checkedAt, true))] as const),
    { purpose: 'FraudPreventionAndDetection', writtenAtMs: Date.now() },
  );
}

function historyStore(redis: RedisClient, env: Record<string, string>): StateStore {
  return new StateStore(redis, historyOptions(env, false), stateSecretFromEnv(env));
}

/** Devices whose state in the history is not the last one driven (offline after an even round). */
async function wrongFinalStates(states: StateStore): Promise<number> {
  const held = await states.read(fleet, Date.now());
  return fleet.filter((n, d) => {
    const changes = Math.ceil((EVENTS - d) / DEVICES);
    const reachable = changes <= 0 || changes % 2 === 0;
    return held.get(n)?.reachable !== reachable;
  }).length;
}

async function startServe(env: Record<string, string>, port: number): Promise<ReachscanProcess> {
  const serve = spawnReachscan(['serve', '--port', String(port)], env);
  const deadline = Date.now() + 60_000;
  while (!serve.stdout().includes('listening on')) {
    if (serve.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`serve did not start: ${serve.stderr()}`);
    await sleep(50);
  }
  return serve;
}

/**
 * Drives the changes at a steady pace, scheduled from the start and not waiting for other devices' answers, so
 * a slow request does not hold back the rest: change i flips device i mod N, offline on even rounds and online
 * on odd ones. A device's next change waits for the answer to its previous one: sent out of order, a change to
 * the state the simulator already holds would make no event. Gives each change's send time.
 */
async function drive(simUrl: string): Promise<number[]> {
  const sentAt = new Array<number>(EVENTS).fill(NaN);
  const previous = new Map<string, Promise<void>>();
  const start = now();
  for (let i = 0; i < EVENTS; i++) {
    const due = start + (i * 1000) / RATE;
    if (due > now()) await sleep(due - now());
    const number = fleet[i % DEVICES] as string;
    const state = Math.floor(i / DEVICES) % 2 === 0 ? offline : online;
    const sent = (previous.get(number) ?? Promise.resolve()).then(() => {
      sentAt[i] = now();
      return setDevice(simUrl, number, state);
    });
    previous.set(number, sent);
  }
  await Promise.all(previous.values());
  return sentAt;
}

/**
 * Waits until every change is in the history and at the receiver, or until nothing new has come for
 * QUIET_MS (a lost event never comes: no use waiting out the whole DRAIN_MS), then SETTLE_MS for duplicates.
 */
async function drain(arrived: () => { history: number; webhooks: number }): Promise<void> {
  const deadline = now() + DRAIN_MS;
  let seen = -1;
  let quietSince = now();
  for (;;) {
    const { history, webhooks } = arrived();
    if ((history >= EVENTS && webhooks >= EVENTS) || now() > deadline) break;
    if (history + webhooks !== seen) [seen, quietSince] = [history + webhooks, now()];
    else if (now() - quietSince > QUIET_MS) break;
    await sleep(20);
  }
}

/** p50/p95/p99/max of a list of ms (nearest rank); an event with no time (lost) is left out of the count. */
function quantiles(values: readonly number[]) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  return {
    count: sorted.length,
    p50: round(q(0.5), 1),
    p95: round(q(0.95), 1),
    p99: round(q(0.99), 1),
    max: round(sorted.at(-1) ?? NaN, 1),
  };
}

interface Delivery {
  readonly at: number;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventTime: number;
  readonly number: string;
  readonly change: string;
}

/** The receiver's requests, each verified (signature, timestamp) with the standardwebhooks library. */
function verifiedDeliveries(arrivals: readonly Arrival[]): { deliveries: Delivery[]; badSignatures: number } {
  const verifier = new Webhook(SECRET);
  const deliveries: Delivery[] = [];
  let badSignatures = 0;
  for (const a of arrivals) {
    let payload: { type: string; data: Record<string, unknown> };
    try {
      payload = verifier.verify(a.body, a.headers as Record<string, string>) as typeof payload;
    } catch {
      badSignatures++;
      continue;
    }
    if (payload.type !== 'device.changed') continue;
    const evidence = payload.data.evidence as { event_id: string; event_time: string };
    deliveries.push({
      at: a.at,
      webhookId: String(a.headers['webhook-id']),
      eventId: evidence.event_id,
      eventTime: Date.parse(evidence.event_time),
      number: String(payload.data.phone_number),
      change: String(payload.data.change),
    });
  }
  return { deliveries, badSignatures };
}

/**
 * Against what was driven: events with no record (lost), records beyond one an event (duplicated), and
 * numbers whose changes, in event time order, are not the driven sequence (went_offline, came_back, …).
 */
function tally(records: readonly { eventId: string; number: string; change: string; time: number }[]) {
  const distinct = new Map(records.map((r) => [r.eventId, r]));
  const byNumber = new Map<string, { time: number; change: string }[]>();
  for (const r of distinct.values()) byNumber.set(r.number, [...(byNumber.get(r.number) ?? []), r]);
  const outOfSequence = fleet.filter((n, d) => {
    const seen = (byNumber.get(n) ?? []).sort((a, b) => a.time - b.time).map((r) => r.change);
    const expected = Array.from({ length: Math.ceil((EVENTS - d) / DEVICES) }, (_, k) =>
      k % 2 === 0 ? 'went_offline' : 'came_back',
    );
    return seen.join() !== expected.join();
  }).length;
  return { lost: EVENTS - distinct.size, duplicated: records.length - distinct.size, outOfSequence };
}

const redisServer = await startRedisServer();
const sim = await startSimulatorProcess();
const receiver = await startReceiver();
const redis = new Redis(redisServer.url);
const subscriber = new Redis(redisServer.url);
let serve: ReachscanProcess | null = null;
try {
  const dir = scratch('monitor');
  const port = await freePort();
  const env: Record<string, string> = {
    ...simulatorEnv(sim.stdout()),
    CAMARA_AUTH: 'client-credentials',
    REDIS_URL: redisServer.url,
    REACHSCAN_QUEUE_PREFIX: 'bench-monitor',
    REACHSCAN_STATE_SECRET: randomBytes(32).toString('hex'),
    REACHSCAN_LOG_LEVEL: 'warn',
    REACHSCAN_API_TOKEN: randomBytes(24).toString('hex'),
    REACHSCAN_DATA_DIR: join(dir, 'data'),
    REACHSCAN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    REACHSCAN_WEBHOOK_URL: receiver.url,
    REACHSCAN_WEBHOOK_SECRET: SECRET,
  };
  const changesKey = `${historyOptions(env, false).prefix}monitor:changes`;

  for (const n of fleet) await setDevice(sim.url, n, online);
  await seedHistory(redis, env);
  serve = await startServe(env, port);
  writeFileSync(join(dir, 'fleet.csv'), `phone_number\n${fleet.join('\n')}\n`);
  const subscribing = now();
  const started = await spawnReachscan(
    ['monitor', 'start', join(dir, 'fleet.csv'), '--events', 'reachability', '--expire', '1h'],
    env,
  ).done;
  if (started.code !== 0) throw new Error(`monitor start exited ${started.code}: ${started.stderr}`);
  const subscribeSeconds = (now() - subscribing) / 1000;
  console.log(`monitor start: ${started.stdout.trim()} (${round(subscribeSeconds, 1)} s)`);

  // The n-th RPUSH to the changes list is its n-th record: its notification time is when that record landed.
  await redis.config('SET', 'notify-keyspace-events', 'Kl');
  const historyAt: number[] = [];
  subscriber.on('message', (_channel: string, command: string) => {
    if (command === 'rpush') historyAt.push(now());
  });
  await subscriber.subscribe(`__keyspace@0__:${changesKey}`);

  const load = loadavg().map((l) => round(l, 2));
  console.log(
    `driving ${EVENTS} changes over ${DEVICES} devices at ${RATE}/s (load average ${load.join(' ')})`,
  );
  const cpu = () => ({
    serve: processCpuSeconds(serve?.child.pid) ?? NaN,
    simulator: processCpuSeconds(sim.child.pid) ?? NaN,
    redis: NaN,
  });
  const cpuBefore = { ...cpu(), redis: await redisCpuSeconds(redis) };
  const sentAt = await drive(sim.url);
  // The span of the sends plus one interval: exactly --rate when every change went out on time.
  const driveSeconds = (Math.max(...sentAt) - Math.min(...sentAt)) / 1000 + 1 / RATE;
  await drain(() => ({ history: historyAt.length, webhooks: receiver.arrivals.length }));
  const cpuAfter = { ...cpu(), redis: await redisCpuSeconds(redis) };
  await sleep(SETTLE_MS);

  const changes = (await redis.lrange(changesKey, 0, -1)).map((c) => JSON.parse(c) as EventChange);
  const { deliveries, badSignatures } = verifiedDeliveries(receiver.arrivals);
  const simulator = (await (await fetch(`${sim.url}/_sim/subscriptions`)).json()) as { delivered: number };
  const taken = await countKeys(redis, `${historyOptions(env, false).prefix}monitor:seen:*`);

  const toHistory = changes.map((c, i) => (historyAt[i] ?? NaN) - Date.parse(c.at));
  const toWebhook = deliveries.map((d) => d.at - d.eventTime);
  const recordedAt = new Map(changes.map((c, i) => [c.eventId, historyAt[i] ?? NaN]));
  const historyToWebhook = deliveries.map((d) => d.at - (recordedAt.get(d.eventId) ?? NaN));
  // Which driven change made each event: the k-th change of a number is its k-th event in time order.
  const eventTimes = new Map<string, number[]>();
  for (const c of changes) eventTimes.set(c.number, [...(eventTimes.get(c.number) ?? []), Date.parse(c.at)]);
  const toStamp = sentAt.map((sent, i) => {
    const times = (eventTimes.get(fleet[i % DEVICES] as string) ?? []).sort((a, b) => a - b);
    return (times[Math.floor(i / DEVICES)] ?? NaN) - sent;
  });
  const history = {
    ...tally(changes.map((c) => ({ ...c, time: Date.parse(c.at) }))),
    final_state_wrong: await wrongFinalStates(historyStore(redis, env)),
  };
  const webhooks = {
    ...tally(deliveries.map((d) => ({ ...d, time: d.eventTime }))),
    redelivered: deliveries.length - new Set(deliveries.map((d) => d.webhookId)).size,
    bad_signatures: badSignatures,
  };
  const firstEvent = Math.min(...changes.map((c) => Date.parse(c.at)));
  const lastArrival = Math.max(...deliveries.map((d) => d.at));
  const result = {
    measured_at: new Date().toISOString(),
    devices: DEVICES,
    subscriptions: DEVICES * 3,
    events: EVENTS,
    rate_per_s: RATE,
    // An object, not a list: the file stays as prettier writes it.
    load_average_at_start: { '1m': load[0], '5m': load[1], '15m': load[2] },
    subscribe_seconds: round(subscribeSeconds, 1),
    driven_per_s: round(EVENTS / driveSeconds, 1),
    cloudevents_posted: simulator.delivered,
    cloudevents_taken: taken,
    end_to_end_per_s: round(deliveries.length / ((lastArrival - firstEvent) / 1000), 1),
    latency_ms: {
      'change sent → CloudEvent time': quantiles(toStamp),
      'event → history': quantiles(toHistory),
      'event → webhook': quantiles(toWebhook),
      'history → webhook': quantiles(historyToWebhook),
    },
    cpu_ms_per_event: Object.fromEntries(
      (['serve', 'simulator', 'redis'] as const).map((p) => [
        p,
        round(((cpuAfter[p] - cpuBefore[p]) * 1000) / EVENTS, 2),
      ]),
    ),
    history,
    webhooks,
  };
  report(result);
  save(result);
  const clean =
    simulator.delivered === EVENTS &&
    [history, webhooks].every((t) => t.lost === 0 && t.duplicated === 0 && t.outOfSequence === 0) &&
    webhooks.bad_signatures === 0 &&
    history.final_state_wrong === 0 &&
    webhooks.redelivered === 0;
  if (!clean) {
    console.log('MISSED: events were lost, duplicated or out of sequence');
    const said = serve.stderr().trim().split('\n').slice(-5).join('\n');
    if (said !== '') console.log(`serve's last warnings:\n${said}`);
    process.exitCode = 1;
  }
} finally {
  serve?.child.kill('SIGTERM');
  await serve?.done;
  subscriber.disconnect();
  await redis.quit();
  await receiver.close();
  await sim.stop();
  await redisServer.stop();
}

function report(r: { latency_ms: Record<string, ReturnType<typeof quantiles>>; [k: string]: unknown }): void {
  console.log('\nfrom                            count      p50      p95      p99      max   (ms)');
  for (const [name, q] of Object.entries(r.latency_ms)) {
    const cells = [q.p50, q.p95, q.p99, q.max].map((v) => v.toFixed(1).padStart(8));
    console.log(`${name.padEnd(30)} ${String(q.count).padStart(6)} ${cells.join(' ')}`);
  }
  const h = r.history as ReturnType<typeof tally> & { final_state_wrong: number };
  const w = r.webhooks as ReturnType<typeof tally> & { redelivered: number; bad_signatures: number };
  console.log(
    `\nCloudEvents posted by the simulator: ${String(r.cloudevents_posted)} of ${String(r.events)}, ` +
      `taken by serve (each id once, in order or not): ${String(r.cloudevents_taken)}` +
      `\nhistory:  lost ${h.lost}, duplicated ${h.duplicated}, out of sequence ${h.outOfSequence}, ` +
      `devices left in a state not the last one ${h.final_state_wrong}` +
      `\nwebhooks: lost ${w.lost}, duplicated ${w.duplicated}, out of sequence ${w.outOfSequence}, ` +
      `sent twice ${w.redelivered}, bad signatures ${w.bad_signatures}` +
      `\nthroughput: driven ${String(r.driven_per_s)}/s, event → webhook ${String(r.end_to_end_per_s)}/s` +
      `\nCPU ms per event: ${JSON.stringify(r.cpu_ms_per_event)}`,
  );
}

/** How many keys match a pattern (serve marks each CloudEvent id it took as seen). */
async function countKeys(redis: Redis, match: string): Promise<number> {
  let count = 0;
  for await (const keys of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>)
    count += keys.length;
  return count;
}

/** Appends the run to bench/results/monitor-<date>.json (runs of a day side by side: the machine is noisy). */
function save(result: object): void {
  const date = new Date().toISOString().slice(0, 10);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `monitor-${date}.json`);
  const earlier = existsSync(path)
    ? ((JSON.parse(readFileSync(path, 'utf8')) as { runs?: unknown[] }).runs ?? [])
    : [];
  const redisVersion =
    /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  const file = { date, machine: machineInfo(redisVersion), runs: [...earlier, result] };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`written: ${path}`);
}
