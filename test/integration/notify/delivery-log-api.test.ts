import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { call, fleetCsv, startServe, type ServeProcess } from '../api/serve-process.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const DEADLINE = { timeout: 30_000, interval: 50 };

interface Delivery {
  id: string;
  type: string;
  url: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
  batch_id: string | null;
  created_at: string;
  finished_at: string | null;
}

let t: TestSimulator;
let serve: ServeProcess;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await startTestSimulator();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0 });
  receiver = await startWebhookReceiver();
  // A failed delivery is one refused for 2 s (retries every 50 ms or so, doubling); serve's worker delivers.
  serve = await startServe(t, ['--worker', '--concurrency', '4'], {
    REACHSCAN_WEBHOOK_SECRET: SECRET,
    REACHSCAN_WEBHOOK_RETRY_BASE_MS: '50',
    REACHSCAN_WEBHOOK_RETRY_FOR_MS: '2000',
  });
});
afterAll(async () => {
  await serve?.stop();
  await receiver?.close();
  await t?.close();
});

const list = async (query = '') => {
  const answer = await call(`${serve.url}/webhooks${query}`, { token: serve.token });
  expect(answer.status, answer.text).toBe(200);
  return answer.json<{ deliveries: Delivery[] }>().deliveries;
};
const redeliver = (id: string) =>
  call(`${serve.url}/webhooks/${id}/redeliver`, { method: 'POST', token: serve.token });

/** A batch of 5 numbers sent with `webhook` = the receiver; resolves with its id. */
async function batch(seed: number): Promise<string> {
  const posted = await call(`${serve.url}/batches?webhook=${encodeURIComponent(receiver.url)}`, {
    method: 'POST',
    token: serve.token,
    headers: { 'content-type': 'text/csv' },
    body: fleetCsv(5, seed),
  });
  expect(posted.status, posted.text).toBe(202);
  return posted.json<{ id: string }>().id;
}

const byBatch = (deliveries: Delivery[], batchId: string) => deliveries.find((d) => d.batch_id === batchId);

describe('serve: the webhook delivery log over HTTP (GET /webhooks, POST /webhooks/:id/redeliver)', () => {
  let delivered: Delivery;
  let failed: Delivery;

  it('lists a delivered and a failed event, newest first, and only the failed one with failed=true', async () => {
    receiver.answer(() => 200);
    const first = await batch(61);
    await expect.poll(async () => byBatch(await list(), first)?.state, DEADLINE).toBe('delivered');

    receiver.answer(() => 503);
    const second = await batch(62);
    await expect.poll(async () => byBatch(await list(), second)?.state, DEADLINE).toBe('failed');

    const all = await list();
    expect(all.map((d) => d.batch_id)).toEqual([second, first]);
    [failed, delivered] = all as [Delivery, Delivery];
    expect(delivered).toMatchObject({
      type: 'batch.completed',
      state: 'delivered',
      attempts: 1,
      last_error: null,
      finished_at: expect.any(String),
    });
    expect(failed).toMatchObject({
      type: 'batch.completed',
      state: 'failed',
      finished_at: expect.any(String),
    });
    expect(failed.attempts).toBeGreaterThan(1);
    expect(failed.last_error).toContain('503');
    expect(failed.last_error).not.toContain('secret-answer-text');
    // The receiver's query string (its token) is not in the log.
    expect(failed.url).toBe(receiver.url.split('?')[0]);
    expect(await list('?failed=true')).toEqual([failed]);
    expect(await list('?failed=false')).toEqual(all);
  });

  it('redelivers the failed event with the same webhook-id, signed, and then lists it as delivered', async () => {
    receiver.answer(() => 200);
    const answer = await redeliver(failed.id);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.json()).toEqual({ id: failed.id, state: 'pending', detail: 'queued again for delivery' });

    const accepted = () =>
      receiver.received.filter((r) => r.headers['webhook-id'] === failed.id && r.status === 200);
    await expect.poll(() => accepted().length, DEADLINE).toBe(1);
    const [again] = accepted();
    const event = new Webhook(SECRET).verify(again?.body ?? '', again?.headers as Record<string, string>) as {
      type: string;
      data: { batch_id: string };
    };
    expect(event).toMatchObject({ type: 'batch.completed', data: { batch_id: failed.batch_id } });

    await expect
      .poll(async () => byBatch(await list(), failed.batch_id ?? '')?.state, DEADLINE)
      .toBe('delivered');
    expect(byBatch(await list(), failed.batch_id ?? '')?.attempts).toBe(1);
    expect(await list('?failed=true')).toEqual([]);
  });

  it('answers 409 while an event is still being tried, 404 for an id not in the log', async () => {
    receiver.answer(() => 503);
    // Refused for the next 2 s: pending all that time.
    expect((await redeliver(delivered.id)).status).toBe(202);
    const again = await redeliver(delivered.id);
    expect(again.status, again.text).toBe(409);
    expect(again.json()).toMatchObject({ id: delivered.id, state: 'pending' });
    expect((await list()).find((d) => d.id === delivered.id)?.state).toBe('pending');

    const unknown = await redeliver('msg_00000000000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json<{ detail: string }>().detail).toBe(
      'no delivery msg_00000000000000000000000000000000 in the log',
    );
  });

  it('refuses a failed= that is not true or false (400), and any call without the token (401)', async () => {
    const bad = await call(`${serve.url}/webhooks?failed=maybe`, { token: serve.token });
    expect(bad.status).toBe(400);
    expect(bad.json<{ detail: string }>().detail).toBe('"failed" must be true or false (got "maybe")');
    expect((await call(`${serve.url}/webhooks`)).status).toBe(401);
    expect((await call(`${serve.url}/webhooks/${failed.id}/redeliver`, { method: 'POST' })).status).toBe(401);
  });
});
