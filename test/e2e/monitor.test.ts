import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stateSecretFromEnv } from '../../src/config/privacy.js';
import { historyOptions } from '../../src/config/settings.js';
import { MonitorStore } from '../../src/history/monitor-store.js';
import { nextState } from '../../src/history/number-state.js';
import { encodeState, StateStore } from '../../src/history/state-store.js';
import { createRedis, type RedisClient } from '../../src/queue/connection.js';
import type { DeviceState } from '../../src/simulator/device-state.js';
import { carrierAnswer } from '../support/rows.js';
import { spawnReachscan, type ReachscanProcess } from '../support/reachscan-process.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

const FLEET = Array.from({ length: 50 }, (_, i) => `+447911${String(100_000 + i)}`);
const LATE_NUMBER = '+447911200001';
const DEADLINE = { timeout: 60_000, interval: 50 };
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** A local webhook receiver: every body it got, once verified with the standardwebhooks library. */
async function startReceiver(): Promise<{ server: Server; url: string; changes: () => string[] }> {
  const bodies: { body: string; headers: Record<string, string> }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push({ body, headers: req.headers as Record<string, string> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const verifier = new Webhook(SECRET);
  const changes = () =>
    bodies
      .map((b) => verifier.verify(b.body, b.headers) as { type: string; data: Record<string, unknown> })
      .filter((e) => e.type === 'device.changed')
      .map(
        (e) =>
          `${String(e.data.phone_number)} ${String(e.data.change)} ${(e.data.evidence as { source: string }).source}`,
      );
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`, changes };
}

type Device = Extract<DeviceState, { kind: 'device' }>;
const online = (): Device => ({
  kind: 'device',
  reachable: true,
  connectivity: ['DATA'],
  connectivityChangedAt: Date.now(),
  roaming: null,
  roamingChangedAt: Date.now(),
});
const offline = (): Device => ({ ...online(), reachable: false, connectivity: [] });
const roamingInFrance = (): Device => ({
  ...online(),
  roaming: { mcc: 208, countries: ['FR'] },
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function run(args: string[], env: Record<string, string>) {
  return spawnReachscan(args, env).done;
}

describe('monitor: CAMARA subscriptions end to end (simulator, serve, Redis)', () => {
  let t: TestSimulator;
  let env: Record<string, string>;
  let serve: ReachscanProcess;
  let redis: RedisClient;
  let monitor: MonitorStore;
  let states: StateStore;
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    t = await startTestSimulator();
    for (const n of [...FLEET, LATE_NUMBER]) t.sim.setDevice(n, online());
    const port = await freePort();
    receiver = await startReceiver();
    env = {
      ...(t.camaraEnv('client-credentials') as Record<string, string>),
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: `monitor-${randomUUID()}`,
      REACHSCAN_LOG_LEVEL: 'silent',
      REACHSCAN_API_TOKEN: randomBytes(24).toString('hex'),
      REACHSCAN_DATA_DIR: mkdtempSync(join(tmpdir(), 'reachscan-monitor-data-')),
      REACHSCAN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      REACHSCAN_WEBHOOK_URL: receiver.url,
      REACHSCAN_WEBHOOK_SECRET: SECRET,
      REACHSCAN_WEBHOOK_RETRY_BASE_MS: '50',
    };
    redis = createRedis(env.REDIS_URL as string, 'client');
    const history = historyOptions(env, false);
    monitor = new MonitorStore(redis, history);
    states = new StateStore(redis, history, stateSecretFromEnv(env));
    // What an earlier scan of the fleet found: every device online at home (simulated evidence, as the scan's).
    const before = Date.now() - 60_000;
    await states.write(
      FLEET.map((n) => {
        const answer = carrierAnswer({
          reachable: 'true',
          connectivity: 'DATA',
          roaming: 'false',
          roaming_countries: '',
          roaming_mcc: '',
        });
        return [n, encodeState(nextState(null, answer, 'camara', before, true))] as const;
      }),
      { purpose: 'FraudPreventionAndDetection', writtenAtMs: Date.now() },
    );
    dir = mkdtempSync(join(tmpdir(), 'reachscan-monitor-'));
    writeFileSync(join(dir, 'fleet.csv'), `phone_number\n${FLEET.join('\n')}\n`);
    writeFileSync(join(dir, 'late.csv'), `phone_number\n${LATE_NUMBER}\n`);
    serve = spawnReachscan(['serve', '--port', String(port)], env);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${serve.stderr()}`)), 60_000);
      serve.child.stdout?.on('data', () => {
        if (serve.stdout().includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }, 120_000);

  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.done;
    await redis?.quit();
    receiver?.server.close();
    await t?.close();
  });

  it('subscribes each number to each event type, once even when started again', async () => {
    const first = await run(
      ['monitor', 'start', join(dir, 'fleet.csv'), '--events', 'reachability,roaming', '--expire', '30d'],
      env,
    );
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('300 subscription(s) created, 0 already there, 0 failed');
    const again = await run(
      ['monitor', 'start', join(dir, 'fleet.csv'), '--events', 'reachability,roaming'],
      env,
    );
    expect(again.stdout).toContain('0 subscription(s) created, 300 already there');
    expect(t.sim.subscriptions()).toHaveLength(300);
    const types = new Set(t.sim.subscriptions().map((s) => (s as { types: string[] }).types[0]));
    expect(types).toContain(
      'org.camaraproject.device-reachability-status-subscriptions.v0.reachability-disconnected',
    );
    expect(types).toContain(
      'org.camaraproject.device-roaming-status-subscriptions.v0.roaming-change-country',
    );
    expect(types.size).toBe(6);
  }, 120_000);

  it('folds exactly the 8 changes the network pushed into the history, with evidence event', async () => {
    const gone = FLEET.slice(0, 5);
    const travelling = FLEET.slice(10, 13);
    gone.forEach((n) => t.sim.setDevice(n, offline()));
    travelling.forEach((n) => t.sim.setDevice(n, roamingInFrance()));
    await expect.poll(async () => (await monitor.changes()).length, DEADLINE).toBe(8);
    const changes = await monitor.changes();
    expect(changes.map((c) => `${c.number} ${c.change}`).sort()).toEqual(
      [...gone.map((n) => `${n} went_offline`), ...travelling.map((n) => `${n} started_roaming`)].sort(),
    );
    expect(changes.every((c) => c.evidence === 'event')).toBe(true);
    const expected = [
      ...gone.map((n) => `${n} went_offline event`),
      ...travelling.map((n) => `${n} started_roaming event`),
    ].sort();
    await expect.poll(() => receiver.changes().length, DEADLINE).toBe(8);
    expect(receiver.changes().sort()).toEqual(expected);
    const known = await states.read(gone, Date.now());
    expect([...known.values()].map((s) => s.reachable)).toEqual([false, false, false, false, false]);
  }, 120_000);

  it('counts a duplicated event once and lets no older event undo a newer one', async () => {
    const changesBefore = (await monitor.changes()).length;
    let delivered = t.sim.eventsDelivered();
    t.sim.setDials({ eventDuplicates: true });
    t.sim.setDevice(FLEET[0] as string, online());
    await expect.poll(() => t.sim.eventsDelivered(), DEADLINE).toBe(delivered + 2);
    t.sim.setDials({ eventDuplicates: false });
    expect((await monitor.changes()).slice(changesBefore).map((c) => c.change)).toEqual(['came_back']);

    // Offline, then online again, delivered newest first: the older "disconnected" must change nothing.
    delivered = t.sim.eventsDelivered();
    t.sim.setDials({ eventOutOfOrder: true });
    t.sim.setDevice(FLEET[20] as string, offline());
    t.sim.setDevice(FLEET[20] as string, online());
    expect(t.sim.flushEvents()).toBe(2);
    t.sim.setDials({ eventOutOfOrder: false });
    await expect.poll(() => t.sim.eventsDelivered(), DEADLINE).toBe(delivered + 2);
    expect((await monitor.changes()).length).toBe(changesBefore + 1);
    expect((await states.read([FLEET[20] as string], Date.now())).get(FLEET[20] as string)?.reachable).toBe(
      true,
    );
    await expect.poll(() => receiver.changes().length, DEADLINE).toBe(9);
    expect(receiver.changes()).toContain(`${FLEET[0]} came_back event`);
  }, 120_000);

  it('refuses an event without the sink credential, or with another one (401)', async () => {
    const id = (t.sim.subscriptions()[0] as { id: string }).id;
    const event = {
      id: randomUUID(),
      source: t.sim.url,
      specversion: '1.0',
      type: 'org.camaraproject.device-reachability-status-subscriptions.v0.reachability-disconnected',
      time: new Date().toISOString(),
      data: { subscriptionId: id },
    };
    const post = (headers: Record<string, string>) =>
      request(`${env.REACHSCAN_PUBLIC_URL}/events/camara`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', ...headers },
        body: JSON.stringify(event),
      });
    const without = await post({});
    expect(without.statusCode).toBe(401);
    await without.body.dump();
    const wrong = await post({ authorization: 'Bearer not-the-token' });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    const apiToken = await post({ authorization: `Bearer ${env.REACHSCAN_API_TOKEN}` });
    expect(apiToken.statusCode).toBe(401);
    await apiToken.body.dump();
  });

  it('renews a subscription the operator ended on expiry', async () => {
    const started = await run(
      ['monitor', 'start', join(dir, 'late.csv'), '--events', 'reachability', '--expire', '2s'],
      env,
    );
    expect(started.stdout).toContain('3 subscription(s) created');
    const forLate = () =>
      t.sim
        .subscriptions()
        .filter((s) => JSON.stringify(s).includes(LATE_NUMBER))
        .map((s) => s as { id: string; expiresAt: string });
    const original = new Set(forLate().map((s) => s.id));
    await expect
      .poll(
        () =>
          forLate().filter((s) => !original.has(s.id) && Date.parse(s.expiresAt) > Date.now() + 30_000)
            .length,
        DEADLINE,
      )
      .toBe(3);
    expect(forLate()).toHaveLength(3);
    const status = await run(['monitor', 'status'], env);
    expect(status.stdout).toContain('303 subscription(s)');
    expect(status.stdout).toMatch(/reachability-disconnected .*: SUBSCRIPTION_EXPIRED, renewed/);
    expect(status.stdout).not.toContain(LATE_NUMBER);
    expect(status.stdout).not.toContain(FLEET[0]);
  }, 120_000);

  it('stop deletes every subscription', async () => {
    const stopped = await run(['monitor', 'stop'], env);
    expect(stopped.stdout).toContain('deleted 303 subscription(s)');
    expect(t.sim.subscriptions()).toHaveLength(0);
    expect(await monitor.all()).toHaveLength(0);
  }, 120_000);
});
