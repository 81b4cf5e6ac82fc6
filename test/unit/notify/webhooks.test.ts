import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { parseWebhookSecret, webhookSettings, WEBHOOK_DEFAULTS } from '../../../src/config/webhooks.js';
import { webhookBody, webhookEventId } from '../../../src/notify/events.js';
import { MAX_RETRY_DELAY_MS, retryDelayMs } from '../../../src/notify/retry-schedule.js';
import { webhookHeaders } from '../../../src/notify/signature.js';

const PRODUCTION = { baseMs: WEBHOOK_DEFAULTS.retryBaseMs, forMs: WEBHOOK_DEFAULTS.retryForMs };

describe('the retry schedule', () => {
  it('starts at about 1 s and doubles, with jitter of ±20%', () => {
    const low = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, PRODUCTION, 0, () => 0));
    const high = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, PRODUCTION, 0, () => 1));
    expect(low).toEqual([800, 1600, 3200, 6400, 12800]);
    expect(high).toEqual([1200, 2400, 4800, 9600, 19200]);
  });

  it('waits at most an hour between attempts, and never past the 24-hour window', () => {
    expect(retryDelayMs(30, PRODUCTION, 0, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(30, PRODUCTION, 24 * 3600_000 - 5_000, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(3, PRODUCTION, 24 * 3600_000, () => 0.5)).toBeNull();
  });

  it('keeps retrying for the whole day: the attempts add up to 24 hours', () => {
    let elapsed = 0;
    let attempt = 0;
    for (;;) {
      const delay = retryDelayMs(++attempt, PRODUCTION, elapsed, () => 0.5);
      if (delay === null) break;
      elapsed += delay;
    }
    expect(elapsed).toBe(24 * 3600_000);
    expect(attempt).toBeGreaterThan(20);
    expect(attempt).toBeLessThan(50);
  });
});

describe('signing', () => {
  it('signs id.timestamp.body as the standardwebhooks library verifies it', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const body = webhookBody({
      type: 'batch.completed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: { a: 1 },
    });
    const id = webhookEventId('batch|completed');
    const headers = webhookHeaders(parseWebhookSecret(secret), id, Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
  });

  it('gives one id per key, without the key in it', () => {
    expect(webhookEventId('b|+447700900123|went_offline')).toBe(
      webhookEventId('b|+447700900123|went_offline'),
    );
    expect(webhookEventId('b|+447700900123|went_offline')).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(webhookEventId(undefined)).not.toBe(webhookEventId(undefined));
  });
});

describe('settings', () => {
  it('refuses a secret that is not whsec_ and base64, in one line naming the variable', () => {
    for (const bad of ['secret', 'whsec_', 'whsec_not base64!', 'whsec_YWJj']) {
      expect(() => webhookSettings({ REACHSCAN_WEBHOOK_SECRET: bad })).toThrow(/^REACHSCAN_WEBHOOK_SECRET /);
    }
    const key = randomBytes(32);
    expect(parseWebhookSecret(`whsec_${key.toString('base64')}`)).toEqual(key);
  });

  it('reads the defaults and refuses a URL that is not http(s)', () => {
    expect(webhookSettings({})).toMatchObject({ secret: null, defaultUrl: null, timeoutMs: 10_000 });
    expect(() => webhookSettings({ REACHSCAN_WEBHOOK_URL: 'ftp://x' })).toThrow(/REACHSCAN_WEBHOOK_URL/);
    expect(() => webhookSettings({ REACHSCAN_WEBHOOK_TIMEOUT_MS: 'soon' })).toThrow(
      /REACHSCAN_WEBHOOK_TIMEOUT_MS/,
    );
  });
});
