import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { WebhookSettings } from '../config/webhooks.js';
import type { Logger } from '../logging/logger.js';
import { createRedis } from '../queue/connection.js';
import { redactUrl, webhookBody, WEBHOOK_QUEUE, type WebhookJobData } from './events.js';
import { retryDelayMs } from './retry-schedule.js';
import { webhookHeaders } from './signature.js';

export interface WebhookDeliveryOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly logger: Logger;
  readonly settings: Pick<WebhookSettings, 'secret' | 'timeoutMs' | 'retryBaseMs' | 'retryForMs'>;
  /** Deliveries in flight in this process. */
  readonly concurrency?: number;
}

export interface WebhookDeliveries {
  close(): Promise<void>;
}

/** What one attempt ended with: a 2xx, or why not (a status code or a timeout, never the body). */
type Attempt = { ok: true; status: number } | { ok: false; why: string };

/**
 * Delivers queued events: signs each attempt, POSTs it, and leaves retries to BullMQ with the doubling
 * schedule until the retry window is over. Returns null, with one log line, when no secret is set: events
 * then wait in the queue for a process that has one.
 */
export function startWebhookDeliveries(options: WebhookDeliveryOptions): WebhookDeliveries | null {
  const { settings, logger } = options;
  const key = settings.secret;
  if (key === null) {
    logger.info('webhook deliveries not run here: REACHSCAN_WEBHOOK_SECRET is not set');
    return null;
  }
  const schedule = { baseMs: settings.retryBaseMs, forMs: settings.retryForMs };
  const connection = createRedis(options.redisUrl, 'worker');
  connection.on('error', (error: Error) => logger.error({ err: error.message }, 'webhook connection error'));
  const worker = new Worker<WebhookJobData>(
    WEBHOOK_QUEUE,
    async (job) => {
      const attempt = await attemptDelivery(job.data, key, settings.timeoutMs);
      const log = logger.child({ webhook: job.data.id, type: job.data.type, attempt: job.attemptsMade + 1 });
      if (attempt.ok) {
        log.info({ status: attempt.status }, 'webhook delivered');
        return { status: attempt.status, at: new Date().toISOString() };
      }
      const elapsed = Date.now() - job.data.since;
      if (retryDelayMs(job.attemptsMade + 1, schedule, elapsed) === null) {
        log.warn({ why: attempt.why }, 'webhook failed: retried for the whole window');
        throw new UnrecoverableError(`${attempt.why}; no more retries`);
      }
      log.info({ why: attempt.why }, 'webhook attempt failed, will retry');
      throw new Error(attempt.why);
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 16,
      lockDuration: Math.max(30_000, settings.timeoutMs * 2),
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: unknown) => {
          const since = (job as Job<WebhookJobData> | undefined)?.data.since ?? Date.now();
          return retryDelayMs(attemptsMade, schedule, Date.now() - since) ?? -1;
        },
      },
    },
  );
  worker.on('error', (error) => logger.error({ err: error.message }, 'webhook worker error'));
  return {
    async close() {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** One signed POST. The receiver's body is read and dropped: it never reaches a log or the delivery log. */
async function attemptDelivery(data: WebhookJobData, key: Buffer, timeoutMs: number): Promise<Attempt> {
  const body = webhookBody(data);
  const headers = webhookHeaders(key, data.id, Math.floor(Date.now() / 1000), body);
  try {
    const response = await fetch(data.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, why: `${redactUrl(data.url)} answered ${response.status}` };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { ok: false, why: `${redactUrl(data.url)} did not answer within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? 'network error';
    return { ok: false, why: `${redactUrl(data.url)} could not be reached (${cause})` };
  }
}
