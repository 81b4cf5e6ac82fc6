import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnReachscan, simulatorEnv, type ReachscanProcess } from '../../support/reachscan-process.js';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../support/webhook-receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const tempDir = () => mkdtempSync(join(tmpdir(), 'reachscan-webhooks-'));

/** A fleet file of `count` distinct German mobile numbers, and the numbers. */
function fleetFile(count: number, seed: number): { path: string; numbers: string[] } {
  const numbers = Array.from(
    { length: count },
    (_, i) => `+49151${String(seed * 10_000 + i).padStart(8, '0')}`,
  );
  const path = join(tempDir(), 'fleet.csv');
  writeFileSync(path, ['device,msisdn', ...numbers.map((n, i) => `D${i},${n}`)].join('\n'));
  return { path, numbers };
}

interface Event {
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/** Every 2xx-answered request, verified with the standardwebhooks library (throws on a bad signature). */
function delivered(receiver: WebhookReceiver): (ReceivedWebhook & { event: Event })[] {
  const verifier = new Webhook(SECRET);
  return receiver.received
    .filter((r) => r.status < 300)
    .map((r) => ({ ...r, event: verifier.verify(r.body, r.headers as Record<string, string>) as Event }));
}

async function until(what: string, check: () => boolean, ms = 25_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let sim: SimulatorProcess;
let receiver: WebhookReceiver;
let workers: ReachscanProcess[] = [];

beforeAll(async () => {
  sim = await startSimulatorProcess(['--latency-ms', '2']);
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
  workers = [];
  await receiver.close();
});

function envFor(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...simulatorEnv(sim.stdout()),
    REDIS_URL: inject('redisUrl'),
    REACHSCAN_QUEUE_PREFIX: `webhooks-${randomUUID()}`,
    REACHSCAN_STATE_PREFIX: `{webhooks-state-${randomUUID()}}:`,
    REACHSCAN_LOG_LEVEL: 'info',
    REACHSCAN_RETRY_BASE_MS: '20',
    REACHSCAN_WEBHOOK_SECRET: SECRET,
    REACHSCAN_WEBHOOK_RETRY_BASE_MS: '50',
    ...extra,
  };
}

async function setDevice(number: string, state: unknown): Promise<void> {
  const response = await fetch(`${sim.url}/_sim/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number: number, state }),
  });
  expect(response.status).toBe(200);
}

describe('webhooks (Standard Webhooks)', () => {
  it('signs batch.completed so standardwebhooks verifies it, retries a 500 until a 200, and puts no number in it', async () => {
    receiver = await startWebhookReceiver();
    // The first two attempts of every event are refused.
    receiver.answer((_id, attempt) => (attempt <= 2 ? 500 : 200));
    const { path, numbers } = fleetFile(40, 1);
    const env = envFor();
    const scan = await spawnReachscan(['scan', path, '--out', tempDir(), '--webhook', receiver.url], env)
      .done;
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stderr).not.toContain('still pending');

    const events = delivered(receiver);
    expect(events.map((e) => e.event.type)).toEqual(['batch.completed']);
    const [completed] = events;
    const id = String(completed?.headers['webhook-id']);
    const attempts = receiver.received.filter((r) => r.headers['webhook-id'] === id);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    // Each attempt is signed afresh; the id stays the event's.
    expect(completed?.event.data).toMatchObject({
      state: 'done',
      file: 'fleet.csv',
      counts: { rows: { total: 40, valid: 40 }, lookups_failed: 0 },
      links: null,
    });
    expect(completed?.event.data.batch_id).toMatch(/^[0-9a-f]{24}$/);
    for (const number of numbers) {
      expect(completed?.body).not.toContain(number.slice(3));
    }
    // The secret and the receiver's answers are nowhere in the output.
    expect(scan.stderr + scan.stdout).not.toContain(SECRET.slice(6));
    expect(scan.stderr + scan.stdout).not.toContain('secret-answer-text');

    // The delivery log says it took three attempts.
    const list = await spawnReachscan(['webhooks', 'list', '--json'], env).done;
    expect(list.code, list.stderr).toBe(0);
    const log = JSON.parse(list.stdout) as { id: string; state: string; attempts: number; url: string }[];
    expect(log).toEqual([expect.objectContaining({ id, state: 'delivered', attempts: 3 })]);
    expect(log[0]?.url).not.toContain('receiver-token');
  });

  it('sends each event once with 3 worker processes: device.changed after a state change, then batch.completed', async () => {
    receiver = await startWebhookReceiver();
    const env = envFor();
    workers = [0, 1, 2].map(() => spawnReachscan(['worker', '--concurrency', '4'], env));
    const { path, numbers } = fleetFile(60, 2);
    const online = { connectivity: ['DATA', 'SMS'], roaming: null };
    for (const number of numbers) await setDevice(number, online);
    const first = await spawnReachscan(
      ['scan', path, '--out', tempDir(), '--no-worker', '--webhook', receiver.url, '--chunk-size', '10'],
      env,
    ).done;
    expect(first.code, first.stderr).toBe(0);

    // 10 devices go offline, 5 start roaming in France.
    const offline = numbers.slice(0, 10);
    const roaming = numbers.slice(10, 15);
    for (const number of offline) await setDevice(number, { connectivity: [], roaming: null });
    for (const number of roaming)
      await setDevice(number, { connectivity: ['DATA'], roaming: { mcc: 208, countries: ['FR'] } });
    const second = await spawnReachscan(
      ['scan', path, '--out', tempDir(), '--no-worker', '--webhook', receiver.url, '--chunk-size', '10'],
      env,
    ).done;
    expect(second.code, second.stderr).toBe(0);
    // scan waited for its deliveries, so they are all in.
    expect(second.stderr).not.toContain('still pending');

    const events = delivered(receiver);
    const ids = events.map((e) => String(e.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const changed = events.filter((e) => e.event.type === 'device.changed').map((e) => e.event.data);
    expect(changed).toHaveLength(15);
    expect(
      changed
        .filter((d) => d.change === 'went_offline')
        .map((d) => d.phone_number)
        .sort(),
    ).toEqual([...offline].sort());
    expect(
      changed
        .filter((d) => d.change === 'started_roaming')
        .map((d) => d.phone_number)
        .sort(),
    ).toEqual([...roaming].sort());
    expect(changed.find((d) => d.change === 'started_roaming')).toMatchObject({
      before: 'home network',
      after: 'FR',
      evidence: { source: 'scan', checked_at: expect.any(String), previous_checked_at: expect.any(String) },
    });
    expect(events.filter((e) => e.event.type === 'batch.completed')).toHaveLength(2);
    // Each event went out once: every request the receiver got was answered 200, one per id.
    expect(receiver.received).toHaveLength(ids.length);
  });

  it('sends batch.paused with the breaker reason, without a number', async () => {
    receiver = await startWebhookReceiver();
    const env = envFor();
    workers = [spawnReachscan(['worker', '--concurrency', '8'], env)];
    await fetch(`${sim.url}/_sim/dials`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: { http503: 0.9 } }),
    });
    try {
      const { path, numbers } = fleetFile(200, 3);
      const scan = spawnReachscan(
        ['scan', path, '--out', tempDir(), '--no-worker', '--webhook', receiver.url, '--error-window', '40'],
        env,
      );
      await until('batch.paused', () => delivered(receiver).some((e) => e.event.type === 'batch.paused'));
      scan.child.kill('SIGINT');
      await scan.done;
      const paused = delivered(receiver).find((e) => e.event.type === 'batch.paused');
      expect(paused?.event.data).toMatchObject({ state: 'paused', file: 'fleet.csv', counts: null });
      expect(String(paused?.event.data.reason)).toMatch(
        /of the last 40 carrier calls failed.*reachscan resume/,
      );
      for (const number of numbers) expect(paused?.body).not.toContain(number.slice(3));
    } finally {
      await fetch(`${sim.url}/_sim/dials`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ faults: { http503: 0 } }),
      });
    }
  });

  it('names the deliveries still pending after --webhook-wait, and lists them as failed attempts go on', async () => {
    receiver = await startWebhookReceiver();
    receiver.answer(() => 503);
    const env = envFor();
    const { path } = fleetFile(5, 4);
    const scan = await spawnReachscan(
      ['scan', path, '--out', tempDir(), '--webhook', receiver.url, '--webhook-wait', '1s'],
      env,
    ).done;
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stderr).toMatch(
      /1 webhook delivery still pending after 1 s \(--webhook-wait\): msg_[0-9a-f]{32} \(batch\.completed\); reachscan worker processes go on retrying them/,
    );
    expect(receiver.received.length).toBeGreaterThan(0);
    expect(scan.stderr).not.toContain('secret-answer-text');

    const simulated = await spawnReachscan(
      ['scan', path, '--out', tempDir(), '--simulate', '--webhook', receiver.url, '--webhook-wait', '1s'],
      envFor(),
    ).done;
    expect(simulated.code, simulated.stderr).toBe(0);
    expect(simulated.stderr).toMatch(
      /still pending after 1 s .*they are dropped with this run's throwaway queue/,
    );
  });

  it('refuses a malformed secret with one line before anything starts', async () => {
    receiver = await startWebhookReceiver();
    const { path } = fleetFile(3, 5);
    const scan = await spawnReachscan(
      ['scan', path, '--out', tempDir(), '--webhook', receiver.url],
      envFor({ REACHSCAN_WEBHOOK_SECRET: 'not-a-secret' }),
    ).done;
    expect(scan.code).toBe(3);
    expect(scan.stderr.trim().split('\n')).toHaveLength(1);
    expect(scan.stderr).toContain('REACHSCAN_WEBHOOK_SECRET must be whsec_ followed by base64');
    expect(receiver.received).toHaveLength(0);
  });
});
