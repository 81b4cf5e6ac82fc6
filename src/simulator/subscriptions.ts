import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { caller, camaraError, type CamaraApi } from './camara.js';
import type { DeviceState } from './device-state.js';
import type { CamaraErrorCode } from './dials.js';
import { BODY_LIMIT_BYTES, parseJson, readBody, sendJson } from './http-io.js';
import type { RouteContext } from './route.js';

/** CAMARA Device Reachability / Roaming Status Subscriptions v0.8 (RCH, RMG `…-subscriptions.yaml`). */
export const SUBSCRIPTION_PATH =
  /^\/device-(reachability|roaming)-status-subscriptions\/v0\.8\/subscriptions(?:\/([^/]+))?$/;

const TYPE_PREFIX = {
  reachability: 'org.camaraproject.device-reachability-status-subscriptions.v0.',
  roaming: 'org.camaraproject.device-roaming-status-subscriptions.v0.',
} as const;

const EVENT_NAMES = {
  reachability: ['reachability-data', 'reachability-sms', 'reachability-disconnected'],
  roaming: ['roaming-status', 'roaming-on', 'roaming-off', 'roaming-change-country'],
} as const;

/** One subscription the simulated operator holds; the sink credential is kept, never shown back. */
interface Subscription {
  readonly id: string;
  readonly api: CamaraApi;
  readonly type: string;
  readonly sink: string;
  readonly accessToken: string | null;
  readonly number: string;
  /** Three-legged (the token named the device): its events carry no `device`. */
  readonly threeLegged: boolean;
  readonly startsAt: number;
  readonly expiresAt: number | null;
}

/** A CloudEvent on its way to a sink, with the token that authorises it there. */
interface Outgoing {
  readonly sink: string;
  readonly accessToken: string | null;
  readonly event: Record<string, unknown>;
}

/**
 * The subscriptions of the simulated operator: create, read, delete; a CloudEvent to each matching sink when a
 * device's state changes; `subscription-ended` when one expires. The `eventDuplicates` and `eventOutOfOrder`
 * dials play the delivery a receiver must survive.
 */
export class SubscriptionBook {
  private readonly subscriptions = new Map<string, Subscription>();
  private held: Outgoing[] = [];
  private lastEventMs = 0;
  private readonly expiryTimer: NodeJS.Timeout;
  /** Deliveries in flight, so a test (or close) can wait for them. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Posts answered (or failed) so far, duplicates included: a test waits on it instead of sleeping. */
  delivered = 0;

  constructor(
    private readonly context: RouteContext,
    private readonly source: () => string,
  ) {
    this.expiryTimer = setInterval(() => this.expire(Date.now()), 100);
    this.expiryTimer.unref();
  }

  /** Handles a request on a subscriptions path (the match of {@link SUBSCRIPTION_PATH}). */
  async handle(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray): Promise<void> {
    const api = match[1] as CamaraApi;
    const id = match[2];
    const who = caller(req, this.context, api);
    if ('error' in who) return camaraError(res, 'v1.1', who.error);
    const method = req.method ?? '';
    const owned = (s: Subscription) =>
      s.api === api && (who.grant?.number == null || who.grant.number === s.number);
    if (id === undefined && method === 'GET')
      return sendJson(res, 200, [...this.subscriptions.values()].filter(owned).map(view));
    if (id === undefined && method === 'POST') return this.create(req, res, api, who.grant?.number ?? null);
    const found = id !== undefined ? this.subscriptions.get(id) : undefined;
    if (found === undefined || !owned(found)) return camaraError(res, 'v1.1', 'IDENTIFIER_NOT_FOUND');
    if (method === 'GET') return sendJson(res, 200, view(found));
    if (method === 'DELETE') {
      this.subscriptions.delete(found.id);
      res.writeHead(204).end();
      return;
    }
    camaraError(res, 'v1.1', 'INVALID_ARGUMENT');
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    api: CamaraApi,
    tokenNumber: string | null,
  ): Promise<void> {
    this.context.stats.request(req.url ?? '');
    const body = parseJson((await readBody(req, BODY_LIMIT_BYTES))?.toString('utf8') ?? '');
    const checked = checkRequest(body, api, tokenNumber);
    if ('error' in checked) return camaraError(res, 'v1.1', checked.error);
    const now = Date.now();
    const subscription: Subscription = { ...checked, id: randomUUID(), api, startsAt: now };
    this.subscriptions.set(subscription.id, subscription);
    sendJson(res, 201, view(subscription));
  }

  /** A device's state changed (`POST /_sim/devices`): the events its subscriptions asked for. */
  deviceChanged(number: string, before: DeviceState, after: DeviceState): void {
    const names = new Set(eventsBetween(before, after));
    if (names.size === 0) return;
    for (const s of this.subscriptions.values()) {
      const name = s.type.slice(TYPE_PREFIX[s.api].length);
      if (s.number !== number || !names.has(name)) continue;
      this.send(s, { ...eventData(name, after), ...deviceOf(s) });
    }
  }

  /** Subscriptions past their `subscriptionExpireTime` end, with a `subscription-ended` each. */
  private expire(nowMs: number): void {
    for (const s of this.subscriptions.values()) {
      if (s.expiresAt === null || s.expiresAt > nowMs) continue;
      this.subscriptions.delete(s.id);
      this.send(s, { terminationReason: 'SUBSCRIPTION_EXPIRED', ...deviceOf(s) }, 'subscription-ended');
    }
  }

  private send(s: Subscription, data: Record<string, unknown>, name?: string): void {
    // Strictly later each time: a receiver may order by `time`.
    this.lastEventMs = Math.max(Date.now(), this.lastEventMs + 1);
    const event = {
      id: randomUUID(),
      source: this.source(),
      specversion: '1.0',
      type: name === undefined ? s.type : TYPE_PREFIX[s.api] + name,
      time: new Date(this.lastEventMs).toISOString(),
      datacontenttype: 'application/json',
      data: { subscriptionId: s.id, ...data },
    };
    const outgoing = { sink: s.sink, accessToken: s.accessToken, event };
    if (this.context.dials().eventOutOfOrder) this.held.push(outgoing);
    else this.deliver(outgoing);
  }

  /** Posts the held events newest first, each once the one before was answered (a definite order). */
  flush(): number {
    const held = this.held.reverse();
    this.held = [];
    const posted = held
      .reduce((previous, outgoing) => previous.then(() => this.post(outgoing)), Promise.resolve())
      .finally(() => this.inFlight.delete(posted));
    this.inFlight.add(posted);
    return held.length;
  }

  private deliver(outgoing: Outgoing): void {
    const times = this.context.dials().eventDuplicates ? 2 : 1;
    for (let i = 0; i < times; i++) {
      const posted = this.post(outgoing).finally(() => this.inFlight.delete(posted));
      this.inFlight.add(posted);
    }
  }

  private async post(outgoing: Outgoing): Promise<void> {
    await post(outgoing);
    this.delivered++;
  }

  list(): readonly ReturnType<typeof view>[] {
    return [...this.subscriptions.values()].map(view);
  }

  clear(): void {
    this.subscriptions.clear();
    this.held = [];
  }

  close(): void {
    clearInterval(this.expiryTimer);
  }
}

/** One POST to the sink: `application/cloudevents+json`, the sink credential as a bearer token. */
async function post(outgoing: Outgoing): Promise<void> {
  const auth: Record<string, string> =
    outgoing.accessToken === null ? {} : { authorization: `Bearer ${outgoing.accessToken}` };
  try {
    const response = await fetch(outgoing.sink, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...auth },
      body: JSON.stringify(outgoing.event),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
  } catch {
    // A sink that does not answer loses the event: the spec promises no redelivery.
  }
}

type Checked = Omit<Subscription, 'id' | 'api' | 'startsAt'>;

/** A create request, checked as the operator would (one event type, HTTP, a sink, ACCESSTOKEN credentials). */
function checkRequest(
  body: unknown,
  api: CamaraApi,
  tokenNumber: string | null,
): Checked | { readonly error: CamaraErrorCode } {
  if (typeof body !== 'object' || body === null) return { error: 'INVALID_ARGUMENT' };
  const b = body as Record<string, unknown>;
  const types = b.types;
  const type: unknown = Array.isArray(types) && types.length === 1 ? (types[0] as unknown) : undefined;
  const known = (EVENT_NAMES[api] as readonly string[]).map((n) => TYPE_PREFIX[api] + n);
  if (
    b.protocol !== 'HTTP' ||
    typeof b.sink !== 'string' ||
    typeof type !== 'string' ||
    !known.includes(type)
  )
    return { error: 'INVALID_ARGUMENT' };
  const config = (b.config ?? {}) as Record<string, unknown>;
  const detail = (config.subscriptionDetail ?? {}) as { device?: { phoneNumber?: unknown } };
  const named = detail.device?.phoneNumber;
  if (tokenNumber !== null && named !== undefined) return { error: 'UNNECESSARY_IDENTIFIER' };
  const number = tokenNumber ?? named;
  if (typeof number !== 'string') return { error: 'MISSING_IDENTIFIER' };
  const credential = b.sinkCredential as Record<string, unknown> | undefined;
  if (
    credential !== undefined &&
    (credential.credentialType !== 'ACCESSTOKEN' || typeof credential.accessToken !== 'string')
  )
    return { error: 'INVALID_ARGUMENT' };
  const expire = config.subscriptionExpireTime;
  const expiresAt = typeof expire === 'string' ? Date.parse(expire) : null;
  if (expiresAt !== null && Number.isNaN(expiresAt)) return { error: 'INVALID_ARGUMENT' };
  return {
    type,
    sink: b.sink,
    accessToken: (credential?.accessToken as string | undefined) ?? null,
    number,
    threeLegged: tokenNumber !== null,
    expiresAt,
  };
}

/** A subscription as the API shows it: never its sink credential. */
function view(s: Subscription) {
  return {
    id: s.id,
    protocol: 'HTTP',
    sink: s.sink,
    types: [s.type],
    config: {
      subscriptionDetail: s.threeLegged ? {} : { device: { phoneNumber: s.number } },
      ...(s.expiresAt !== null ? { subscriptionExpireTime: new Date(s.expiresAt).toISOString() } : {}),
    },
    startsAt: new Date(s.startsAt).toISOString(),
    ...(s.expiresAt !== null ? { expiresAt: new Date(s.expiresAt).toISOString() } : {}),
    status: 'ACTIVE',
  };
}

function deviceOf(s: Subscription): Record<string, unknown> {
  return s.threeLegged ? {} : { device: { phoneNumber: s.number } };
}

/** The event names a change of state fires (reachability and roaming alike). */
export function eventsBetween(before: DeviceState, after: DeviceState): string[] {
  if (after.kind !== 'device') return [];
  const was = before.kind === 'device' ? before : null;
  const names: string[] = [];
  const reach = (d: typeof after) =>
    !d.reachable
      ? 'reachability-disconnected'
      : d.connectivity.includes('DATA')
        ? 'reachability-data'
        : 'reachability-sms';
  if (was === null || reach(was) !== reach(after)) names.push(reach(after));
  const wasMcc = was?.roaming?.mcc ?? null;
  const nowMcc = after.roaming?.mcc ?? null;
  if (wasMcc === nowMcc) return names;
  names.push('roaming-status');
  if (wasMcc === null) names.push('roaming-on');
  else if (nowMcc === null) names.push('roaming-off');
  else names.push('roaming-change-country');
  return names;
}

/** What an event's `data` says beyond its subscription: the roaming place for the events that carry one. */
function eventData(name: string, after: DeviceState): Record<string, unknown> {
  if (after.kind !== 'device') return {};
  const place =
    after.roaming === null
      ? {}
      : { countryCode: after.roaming.mcc, countryName: [...after.roaming.countries] };
  if (name === 'roaming-status') return { roaming: after.roaming !== null, ...place };
  if (name === 'roaming-change-country') return place;
  return {};
}
