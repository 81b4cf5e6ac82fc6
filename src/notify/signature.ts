import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks signature of one attempt: `v1,` then the base64 HMAC-SHA256 of `id.timestamp.body`,
 * where timestamp is in whole seconds (the `webhook-timestamp` header).
 */
export function signWebhook(key: Buffer, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers a receiver verifies, for one attempt. */
export function webhookHeaders(
  key: Buffer,
  id: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhook(key, id, timestampS, body),
  };
}
