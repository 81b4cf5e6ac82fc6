import type { CamaraConfig } from '../../config/camara.js';
import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import { SIMULATOR_HEADER } from '../../core/lookup-result.js';
import type { Logger } from '../../logging/logger.js';
import type { HttpTransport } from '../http/transport.js';
import { createCamaraAccess, type CamaraAccess, type CamaraApi } from './access.js';
import { unpaced, type BeforeRequest } from '../provider.js';

/** The event names reachscan subscribes to, per `--events` family. */
export const MONITOR_EVENTS = {
  reachability: ['reachability-disconnected', 'reachability-data', 'reachability-sms'],
  roaming: ['roaming-change-country', 'roaming-on', 'roaming-off'],
} as const satisfies Record<CamaraApi, readonly string[]>;
export type MonitorFamily = keyof typeof MONITOR_EVENTS;

/** The spec's full event type string of a family's event name. */
export function eventType(family: MonitorFamily, name: string): string {
  return `org.camaraproject.device-${family}-status-subscriptions.v0.${name}`;
}

/** What a new subscription is asked with; the sink credential is reachscan's own, per subscription. */
export interface SubscriptionRequest {
  readonly number: E164;
  readonly family: MonitorFamily;
  readonly type: string;
  readonly sink: string;
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

export type SubscriptionResult =
  | {
      readonly ok: true;
      readonly id: string;
      readonly expiresAtMs: number | null;
      /** The built-in simulator answered: its events are simulated evidence, kept apart from real ones. */
      readonly simulated: boolean;
    }
  | { readonly ok: false; readonly status: number; readonly detail: string; readonly rateLimited: boolean };

export interface SubscriptionClient {
  create(request: SubscriptionRequest, before: BeforeRequest): Promise<SubscriptionResult>;
  /** Deletes one; a subscription the operator no longer knows (404) counts as deleted. */
  remove(id: string, number: E164, family: MonitorFamily): Promise<boolean>;
}

export interface SubscriptionDeps {
  readonly config: CamaraConfig;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** CAMARA Device Reachability / Roaming Status Subscriptions v0.8 under the operator's `apiRoot`. */
export function createSubscriptionClient(deps: SubscriptionDeps): SubscriptionClient {
  const access = createCamaraAccess({
    auth: deps.config.auth,
    scopeStyle: deps.config.scopeStyle,
    purpose: deps.config.purpose,
    transport: deps.transport,
    clock: deps.clock,
    logger: deps.logger,
  });
  const base = (family: MonitorFamily) =>
    `${deps.config.apiBaseUrl}/device-${family}-status-subscriptions/v0.8/subscriptions`;
  return {
    async create(request, before) {
      const grant = await authorized(access, request.number, request.family, before);
      if ('refused' in grant) return grant.refused;
      // The create is an upstream request like any other: it takes its place in the rate too.
      await before('subscription');
      const response = await send(base(request.family), 'POST', grant.headers, createBody(request, access));
      return createdFrom(response);
    },
    async remove(id, number, family) {
      const grant = await authorized(access, number, family, unpaced);
      if ('refused' in grant) return false;
      const response = await send(`${base(family)}/${encodeURIComponent(id)}`, 'DELETE', grant.headers);
      return response.status === 204 || response.status === 202 || response.status === 404;
    },
  };
}

async function authorized(
  access: CamaraAccess,
  number: E164,
  family: MonitorFamily,
  before: BeforeRequest,
): Promise<{ headers: Record<string, string> } | { refused: SubscriptionResult }> {
  const grant = await access.authorize(number, family, before);
  if ('ok' in grant) {
    const detail = 'answer' in grant ? grant.answer.code : grant.failure.detail;
    return { refused: { ok: false, status: 0, detail, rateLimited: false } };
  }
  return { headers: { ...grant.headers } };
}

/** The create body: one event type, the CloudEvents sink and its credential, the device when two-legged. */
function createBody(request: SubscriptionRequest, access: CamaraAccess): Record<string, unknown> {
  const expires = new Date(request.expiresAtMs).toISOString();
  return {
    protocol: 'HTTP',
    sink: request.sink,
    types: [request.type],
    config: {
      subscriptionDetail: access.deviceInBody ? { device: { phoneNumber: request.number } } : {},
      subscriptionExpireTime: expires,
    },
    // The token outlives the subscription (COM event guide §2.2.3): else the operator ends it early.
    sinkCredential: {
      credentialType: 'ACCESSTOKEN',
      accessToken: request.accessToken,
      accessTokenExpiresUtc: new Date(request.expiresAtMs + 86_400_000).toISOString(),
      accessTokenType: 'bearer',
    },
  };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly simulated: boolean;
}

async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Record<string, unknown>,
): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method,
      headers: { ...headers, accept: 'application/json', 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const simulated = response.headers.get(SIMULATOR_HEADER) === '1';
    return { status: response.status, body: await response.text(), simulated };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error), simulated: false };
  }
}

function createdFrom(answer: Answer): SubscriptionResult {
  if (answer.status === 201 || answer.status === 202) {
    const body = safeJson(answer.body) as { id?: unknown; expiresAt?: unknown };
    if (typeof body.id === 'string') {
      const expires = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : NaN;
      const expiresAtMs = Number.isNaN(expires) ? null : expires;
      return { ok: true, id: body.id, expiresAtMs, simulated: answer.simulated };
    }
  }
  const code = (safeJson(answer.body) as { code?: unknown }).code;
  const detail = `HTTP ${answer.status}${typeof code === 'string' ? ` ${code}` : ''}`;
  return { ok: false, status: answer.status, detail, rateLimited: answer.status === 429 };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) ?? {};
  } catch {
    return {};
  }
}
