import { batchDeliveries, type WebhookQueueContext } from '../notify/events.js';
import { plural } from '../output/format.js';

/** The events that close a batch's run of events. */
const BATCH_EVENT_TYPES: ReadonlySet<string> = new Set(['batch.completed', 'batch.failed', 'batch.paused']);

/** How often a finished scan looks at its batch's deliveries. */
const POLL_MS = 200;

export interface DeliveryWait {
  readonly context: WebhookQueueContext;
  readonly batchId: string;
  readonly waitMs: number;
  /** What happens to deliveries left when the scan exits: retried by workers, or dropped with the run's queue. */
  readonly leftTo: 'workers' | 'dropped';
  readonly say: (line: string) => void;
}

/**
 * Waits until the batch's webhook events are all queued and delivered (or have failed for good), up to
 * `waitMs`, then says which are still pending and what becomes of them. Returns the ids still pending.
 */
export async function waitForDeliveries(wait: DeliveryWait): Promise<string[]> {
  const deadline = Date.now() + wait.waitMs;
  for (;;) {
    const deliveries = await batchDeliveries(wait.context, wait.batchId);
    const pending = deliveries.filter((d) => d.state === 'pending');
    const failed = deliveries.filter((d) => d.state === 'failed');
    // The worker queues the batch's own event last, after its device.changed events, and after the batch shows
    // as ended: until that event is in, more may come.
    const allQueued = deliveries.some((d) => BATCH_EVENT_TYPES.has(d.type));
    if ((pending.length === 0 && allQueued) || Date.now() >= deadline) {
      if (failed.length > 0)
        wait.say(
          `${plural(failed.length, 'webhook delivery', 'webhook deliveries')} failed: ${failed.map((d) => `${d.id} (${d.type})`).join(', ')}; see reachscan webhooks list --failed`,
        );
      if (pending.length > 0) wait.say(pendingLine(pending, wait));
      return pending.map((d) => d.id);
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))),
    );
  }
}

function pendingLine(pending: readonly { id: string; type: string }[], wait: DeliveryWait): string {
  const shown = pending.slice(0, 10).map((d) => `${d.id} (${d.type})`);
  if (pending.length > shown.length) shown.push(`and ${pending.length - shown.length} more`);
  const then =
    wait.leftTo === 'workers'
      ? 'reachscan worker processes go on retrying them (reachscan webhooks list)'
      : "they are dropped with this run's throwaway queue";
  return `${plural(pending.length, 'webhook delivery', 'webhook deliveries')} still pending after ${Math.round(wait.waitMs / 1000)} s (--webhook-wait): ${shown.join(', ')}; ${then}`;
}
