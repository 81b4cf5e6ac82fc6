import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import { enqueueWebhookEvent, type WebhookQueueContext } from '../notify/events.js';
import type { BatchReport } from '../output/report.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchJobData } from '../queue/job-data.js';
import type { BatchKeys } from '../queue/keys.js';

/** The outcome of a batch as its events say it: never a phone number. */
interface BatchOutcome {
  readonly state: 'done' | 'failed' | 'paused';
  readonly report?: BatchReport;
  readonly reason?: string;
  /** Makes each pause its own event (a batch resumed and paused again sends again). */
  readonly pauseCount?: number;
}

const EVENT_OF = { done: 'batch.completed', failed: 'batch.failed', paused: 'batch.paused' } as const;

/** The counts of report.json: the figures only (its samples and top lists hold numbers). */
function reportCounts(report: BatchReport): Record<string, unknown> {
  return {
    rows: report.rows,
    unique_numbers: report.unique_numbers,
    reachability: report.reachability,
    roaming: report.roaming,
    stale_rows: report.stale.rows,
    changes: { rows: report.changes.rows, by_kind: report.changes.by_kind },
    invalid_numbers: report.invalid_numbers,
    malformed_records: report.malformed_records,
    lookups_failed: report.lookups_failed,
  };
}

/** Where a served batch's outputs are, for receivers; null for a batch not started through `serve`. */
function outputLinks(data: BatchJobData): Record<string, string> | null {
  const base = data.webhook?.links ?? null;
  if (base === null) return null;
  const self = `${base.replace(/\/+$/, '')}/batches/${encodeURIComponent(data.batchId)}`;
  return {
    self,
    results: `${self}/results.csv`,
    report_json: `${self}/report.json`,
    report_html: `${self}/report.html`,
  };
}

/** Queues the batch event for an outcome, if the batch has a webhook. Never fails the batch. */
export async function sendBatchEvent(
  context: WebhookQueueContext,
  data: BatchJobData,
  outcome: BatchOutcome,
  log: Logger,
): Promise<void> {
  const url = data.webhook?.url;
  if (url === undefined) return;
  const type = EVENT_OF[outcome.state];
  await enqueueWebhookEvent(context, {
    url,
    type,
    key: `${data.batchId}|${type}|${outcome.pauseCount ?? 0}`,
    batchId: data.batchId,
    data: {
      batch_id: data.batchId,
      file: data.displayName,
      state: outcome.state,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      counts: outcome.report !== undefined ? reportCounts(outcome.report) : null,
      links: outputLinks(data),
    },
  }).catch((error: unknown) => log.warn({ err: errorMessage(error), type }, 'webhook event not queued'));
}

/**
 * One `device.changed` per number and change of changes.csv (a number on several rows changes once), with
 * the evidence the scan holds: its batch and both check times.
 */
export async function sendChangeEvents(
  context: WebhookQueueContext,
  data: BatchJobData,
  changesFile: string,
  log: Logger,
): Promise<number> {
  const url = data.webhook?.url;
  if (url === undefined) return 0;
  let sent = 0;
  try {
    const seen = new Set<string>();
    const rows = createReadStream(join(data.outDir, changesFile)).pipe(
      parse({ bom: true, from_line: 2, relax_column_count: true }),
    ) as AsyncIterable<string[]>;
    for await (const row of rows) {
      // The last six columns are ours, whatever the input's own columns are.
      const [number, change, before, after, previousCheckedAt, checkedAt] = row.slice(-6);
      const key = `${data.batchId}|${number}|${change}`;
      if (number === undefined || seen.has(key)) continue;
      seen.add(key);
      await enqueueWebhookEvent(context, {
        url,
        type: 'device.changed',
        key,
        batchId: data.batchId,
        data: {
          phone_number: number,
          change,
          before,
          after,
          evidence: {
            source: 'scan',
            batch_id: data.batchId,
            checked_at: checkedAt,
            previous_checked_at: previousCheckedAt,
          },
        },
      });
      sent++;
    }
  } catch (error) {
    log.warn({ err: errorMessage(error), sent }, 'device.changed events not all queued');
  }
  return sent;
}

/** What a chunk needs to send `batch.paused`: kept in the batch's meta, since chunks do not carry it. */
interface RememberedWebhook {
  readonly url: string;
  readonly links: string | null;
  readonly file: string;
}

/** Keeps the batch's webhook where its chunks can find it (the breaker pauses from a chunk). */
export async function rememberWebhook(
  redis: RedisClient,
  keys: BatchKeys,
  data: BatchJobData,
): Promise<void> {
  if (data.webhook == null) return;
  const remembered: RememberedWebhook = { ...data.webhook, file: data.displayName };
  await redis.hset(keys.meta, 'webhook', JSON.stringify(remembered));
}

/** Queues `batch.paused` with its reason, once per pause (`resumes` tells the pauses of one batch apart). */
export async function sendPauseEvent(
  context: WebhookQueueContext,
  keys: BatchKeys,
  pause: { readonly batchId: string; readonly reason: string; readonly resumes: number },
  log: Logger,
): Promise<void> {
  try {
    const text = await context.redis.hget(keys.meta, 'webhook');
    if (text === null) return;
    const remembered = JSON.parse(text) as RememberedWebhook;
    const data = {
      batchId: pause.batchId,
      displayName: remembered.file,
      webhook: { url: remembered.url, links: remembered.links },
    } as BatchJobData;
    await sendBatchEvent(
      context,
      data,
      { state: 'paused', reason: pause.reason, pauseCount: pause.resumes + 1 },
      log,
    );
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'batch.paused not queued');
  }
}
