import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { maskPhone, type E164 } from '../core/e164.js';
import { OneAtATimePerKey } from '../core/one-at-a-time.js';
import type { HistoryOptions } from '../core/settings.js';
import { isSubscriptionEnd, foldEvent, type ReceivedEvent } from '../history/camara-events.js';
import {
  MonitorStore,
  tokenHash,
  type EventChange,
  type MonitorSubscription,
} from '../history/monitor-store.js';
import type { StateStore } from '../history/state-store.js';
import type { Logger } from '../logging/logger.js';
import { enqueueWebhookEvent, type WebhookQueueContext } from '../notify/events.js';
import {
  eventType,
  MONITOR_EVENTS,
  type MonitorFamily,
  type SubscriptionClient,
} from '../providers/camara/subscriptions.js';
import { unpaced, type BeforeRequest } from '../providers/provider.js';
import type { RedisClient } from '../queue/connection.js';
import { rateKey } from '../queue/keys.js';
import { ProcessPace, RateGate } from '../queue/rate-gate.js';

/** The path of `serve` that receives CAMARA events. */
export const EVENTS_PATH = '/events/camara';

/** What push monitoring works with: Redis, the operator's subscription API, where events are received. */
export interface MonitorDeps {
  readonly redis: RedisClient;
  readonly history: HistoryOptions;
  readonly queuePrefix: string;
  readonly client: SubscriptionClient;
  /** `REACHSCAN_PUBLIC_URL`: how the operator reaches `serve`. */
  readonly publicUrl: string;
  /** Requests a second to the operator (0: only its 429s pace us), shared with lookups through Redis. */
  readonly ratePerSecond: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface StartSummary {
  readonly created: number;
  readonly existing: number;
  readonly failed: number;
  readonly firstFailure: string | null;
}

/**
 * Creates one subscription per number and event type, skipping those already recorded (a second start of
 * the same file makes only what is missing), each paced by the shared rate gate.
 */
export async function startMonitoring(
  deps: MonitorDeps,
  numbers: AsyncIterable<E164>,
  families: readonly MonitorFamily[],
  expireMs: number,
  concurrency = 8,
): Promise<StartSummary> {
  const store = new MonitorStore(deps.redis, deps.history);
  const gate = new RateGate(deps.redis, rateKey(deps.queuePrefix), deps.ratePerSecond, new ProcessPace());
  const counts = { created: 0, existing: 0, failed: 0, firstFailure: null as string | null };
  const inFlight = new Set<Promise<void>>();
  for await (const number of numbers) {
    for (const family of families) {
      for (const name of MONITOR_EVENTS[family]) {
        const work = subscribeOnce(deps, store, gate, {
          number,
          family,
          type: eventType(family, name),
          expireMs,
        })
          .then((outcome) => {
            if (outcome === 'existing') counts.existing++;
            else if (outcome === 'created') counts.created++;
            else {
              counts.failed++;
              counts.firstFailure ??= outcome.failure;
            }
          })
          .finally(() => inFlight.delete(work));
        inFlight.add(work);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }
  }
  await Promise.all(inFlight);
  return counts;
}

interface Wanted {
  readonly number: string;
  readonly family: MonitorFamily;
  readonly type: string;
  readonly expireMs: number;
}

async function subscribeOnce(
  deps: MonitorDeps,
  store: MonitorStore,
  gate: RateGate,
  wanted: Wanted,
): Promise<'created' | 'existing' | { failure: string }> {
  if ((await store.idFor(wanted.number, wanted.type)) !== null) return 'existing';
  for (let attempt = 0; ; attempt++) {
    const result = await subscribe(deps, store, wanted, () => gate.acquire());
    if (result === 'created') return result;
    if (!result.rateLimited || attempt >= 5) return { failure: result.detail };
    await gate.pause(1000 * 2 ** attempt);
  }
}

/** Creates one subscription with a fresh sink token and records it. */
async function subscribe(
  deps: MonitorDeps,
  store: MonitorStore,
  wanted: Wanted,
  before: BeforeRequest,
): Promise<'created' | { detail: string; rateLimited: boolean }> {
  const accessToken = randomBytes(32).toString('base64url');
  const expiresAtMs = deps.clock() + wanted.expireMs;
  const result = await deps.client.create(
    {
      number: wanted.number as E164,
      family: wanted.family,
      type: wanted.type,
      sink: sinkUrl(deps.publicUrl),
      accessToken,
      expiresAtMs,
    },
    before,
  );
  if (!result.ok) return { detail: result.detail, rateLimited: result.rateLimited };
  await store.save({
    id: result.id,
    number: wanted.number,
    family: wanted.family,
    type: wanted.type,
    expiresAtMs: result.expiresAtMs ?? expiresAtMs,
    durationMs: wanted.expireMs,
    tokenHash: tokenHash(accessToken),
    simulated: result.simulated,
  });
  return 'created';
}

export function sinkUrl(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '') + EVENTS_PATH;
}

/** Deletes every recorded subscription at the operator, then its record. Gives how many went. */
export async function stopMonitoring(deps: MonitorDeps): Promise<{ deleted: number; failed: number }> {
  const store = new MonitorStore(deps.redis, deps.history);
  let deleted = 0;
  let failed = 0;
  for (const s of await store.all()) {
    const gone = await deps.client.remove(s.id, s.number as E164, s.family);
    if (gone) {
      await store.remove(s);
      deleted++;
    } else failed++;
  }
  return { deleted, failed };
}

/**
 * Replaces a subscription with a new one of the same number and type, for the same duration as before
 * (at least a minute): before it expires, or once the operator ended it.
 */
export async function renewSubscription(deps: MonitorDeps, old: MonitorSubscription): Promise<boolean> {
  const store = new MonitorStore(deps.redis, deps.history);
  const expireMs = Math.max(old.durationMs, 60_000);
  const wanted = { number: old.number, family: old.family, type: old.type, expireMs };
  const result = await subscribe(deps, store, wanted, unpaced);
  if (result !== 'created') {
    deps.logger.warn({ phone: maskPhone(old.number), detail: result.detail }, 'subscription renewal failed');
    return false;
  }
  await store.remove(old);
  await deps.client.remove(old.id, old.number as E164, old.family);
  return true;
}

/**
 * Renews every subscription with less than a tenth of its duration left (or `aheadMs`, if more); gives how
 * many were renewed.
 */
export async function renewDue(deps: MonitorDeps, aheadMs: number): Promise<number> {
  const store = new MonitorStore(deps.redis, deps.history);
  const now = deps.clock();
  let renewed = 0;
  for (const s of await store.all()) {
    if (s.expiresAtMs - now > Math.max(aheadMs, s.durationMs / 10)) continue;
    if (await renewSubscription(deps, s)) renewed++;
  }
  return renewed;
}

export type EventVerdict =
  | {
      readonly status: 204;
      readonly outcome: 'folded' | 'duplicate' | 'stale' | 'ended';
      readonly changes: readonly EventChange[];
    }
  | { readonly status: 401 };

/**
 * One event at the sink: its subscription's credential, then once by (source, id), never older than the
 * number's latest, folded into the history; `subscription-ended` renews the subscription unless it was deleted.
 */
export async function receiveEvent(
  deps: MonitorDeps & { readonly states: StateStore; readonly purpose: string },
  bearer: string | null,
  event: ReceivedEvent,
): Promise<EventVerdict> {
  const monitor = new MonitorStore(deps.redis, deps.history);
  const subscription = await monitor.get(event.subscriptionId);
  if (subscription === null || bearer === null || !MonitorStore.credentialMatches(subscription, bearer))
    return { status: 401 };
  return EVENTS_PER_NUMBER.run(subscription.number, () => admitAndFold(deps, monitor, subscription, event));
}

/**
 * A number's events are folded one at a time in this process: each reads the number's state and writes the
 * next, so two at once would both start from the same state and one change would be lost or said twice.
 */
const EVENTS_PER_NUMBER = new OneAtATimePerKey();

async function admitAndFold(
  deps: MonitorDeps & { readonly states: StateStore; readonly purpose: string },
  monitor: MonitorStore,
  subscription: MonitorSubscription,
  event: ReceivedEvent,
): Promise<EventVerdict> {
  const seen = await monitor.admit(
    event.source,
    event.id,
    subscription.number,
    subscription.family,
    event.timeMs,
  );
  if (seen !== 'new') return { status: 204, outcome: seen, changes: [] };
  const at = new Date(event.timeMs).toISOString();
  const number = maskPhone(subscription.number);
  if (isSubscriptionEnd(event.type)) {
    const reason =
      typeof event.data.terminationReason === 'string' ? event.data.terminationReason : 'unknown';
    const renewed = reason !== 'SUBSCRIPTION_DELETED' && (await renewSubscription(deps, subscription));
    const text = `${shortType(event.type)}: ${shortType(subscription.type)} ${subscription.id}: ${reason}${renewed ? ', renewed' : ''}`;
    await monitor.line('ended', { at, number, text });
    if (!renewed) await monitor.remove(subscription);
    return { status: 204, outcome: 'ended', changes: [] };
  }
  const changes = await foldEvent(
    { states: deps.states, monitor, purpose: deps.purpose },
    subscription,
    event,
  );
  const text = `${shortType(event.type)}${changes.length > 0 ? ` (${changes.map((c) => c.change).join(', ')})` : ''}`;
  await monitor.line('events', { at, number, text });
  return { status: 204, outcome: 'folded', changes };
}

function shortType(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

/**
 * `device.changed` for a change the network pushed, queued for the webhook workers (once per event and
 * change, however often the event comes). Same shape as a scan's, with evidence `event`.
 */
export function deviceChangedWebhook(
  context: WebhookQueueContext,
  url: string,
): (change: EventChange) => Promise<void> {
  return async (change) => {
    await enqueueWebhookEvent(context, {
      url,
      type: 'device.changed',
      key: `event ${change.eventId} ${change.number} ${change.change}`,
      at: Date.parse(change.at),
      data: {
        phone_number: change.number,
        change: change.change,
        before: change.before,
        after: change.after,
        evidence: { source: 'event', event_id: change.eventId, event_time: change.at },
      },
    });
  };
}
