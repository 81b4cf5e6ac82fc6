import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import { dayAnchor, deviceStateFor, parseDeviceState, type DeviceState } from './device-state.js';
import {
  applyDials,
  DEFAULT_DIALS,
  pickFault,
  type DialsPatch,
  type FaultRates,
  type SimulatorDials,
} from './dials.js';
import { readBody, sendJson, sendProblem, PROBLEMS } from './http-io.js';
import { connectivityRoute, DEVICE_STATUS_BASE, DEVICE_STATUS_PATHS, roamingRoute } from './device-status.js';
import { identityInsightsRoute } from './identity-insights.js';
import { bcAuthorizeRoute, NETWORK_AUTH_PATHS, NetworkAuthState, tokenRoute } from './network-auth.js';
import { toApplicationRecord, type SimulatedApplication } from './jwt-check.js';
import type { Admitted, Route, RouteContext } from './route.js';
import { seededRandom } from './random.js';
import { SlidingWindowCap } from './rate-cap.js';
import { StatsCounter, type SimulatorStats } from './stats.js';

export { IDENTITY_INSIGHTS_PATHS } from './identity-insights.js';
import { IDENTITY_INSIGHTS_PATHS } from './identity-insights.js';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: the system picks a free port. */
  readonly port?: number;
  /** Outcomes are a pure function of (seed, number, anchor day). Default `reachscan`. */
  readonly seed?: string;
  /** Applications whose JWTs are accepted. */
  readonly applications: readonly SimulatedApplication[];
  readonly dials?: DialsPatch;
  /** Clock for JWT checks and the anchor day. Rate cap and latency always use real time. */
  readonly clock?: Clock;
  /** Pins the time answers count back from (ms since epoch); default 00:00 UTC of the current day. */
  readonly anchorMs?: number;
}

/** A response a test lines up for one number, served instead of the simulated answer (in order, once each). */
export type ScriptedResponse =
  | { readonly drop: true }
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`: use it as `VONAGE_API_BASE_URL`. */
  readonly url: string;
  readonly port: number;
  stats(): SimulatorStats;
  /** Back to a fresh start: counters, scripts, the fault sequence and the rate-cap window. */
  reset(): void;
  /** Access tokens handed out so far (so tests can check none leaks into logs or outputs). */
  accessTokens(): readonly string[];
  dials(): SimulatorDials;
  setDials(patch: DialsPatch): SimulatorDials;
  script(phoneNumber: string, responses: readonly ScriptedResponse[]): void;
  /**
   * Tells the network that a number's device is now in `state` (both APIs answer from it until changed again
   * or reset); null goes back to the seeded rules. How tests make a device go offline or start roaming.
   */
  setDevice(phoneNumber: string, state: DeviceState | null): void;
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 64 * 1024;

/** Starts the carrier simulator: a real HTTP server answering like Vonage's APIs. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? 'reachscan';
  const applications = new Map(options.applications.map((a) => [a.applicationId, toApplicationRecord(a)]));
  let dials = applyDials(DEFAULT_DIALS, options.dials ?? {});
  let cap = new SlidingWindowCap(dials.rateCapPerSecond);
  let random = seededRandom(seed);
  const stats = new StatsCounter();
  const scripts = new Map<string, ScriptedResponse[]>();
  const devices = new Map<string, DeviceState>();
  const closing = new AbortController();
  const oauth = new NetworkAuthState();

  async function pause(ms: number): Promise<boolean> {
    if (ms <= 0) return true;
    try {
      await sleep(ms, undefined, { signal: closing.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Some carriers send no `Retry-After`; the `retryAfter` dial plays those. */
  function retryAfterHeader(seconds: number): Record<string, string> {
    return dials.retryAfter ? { 'retry-after': String(seconds) } : {};
  }

  /**
   * What every API request goes through before its route sees it: counters, method, body limit, the rate
   * cap. Returns null when the request has been answered already.
   */
  async function admit(req: IncomingMessage, res: ServerResponse, path: string): Promise<Admitted | null> {
    stats.request(path);
    const reply = (status: number, send: () => void) => {
      stats.status(status);
      send();
    };
    if (req.method !== 'POST') {
      reply(405, () => sendProblem(res, 405, PROBLEMS.methodNotAllowed(), { allow: 'POST' }));
      return null;
    }
    const raw = await readBody(req, BODY_LIMIT_BYTES);
    if (raw === null) {
      reply(413, () => sendProblem(res, 413, PROBLEMS.tooLarge(), { connection: 'close' }));
      return null;
    }
    const body = raw.toString('utf8');
    const json = parseJson(body);
    const number = peekPhoneNumber(json, body);
    if (number !== null) stats.number(number);

    const slot = cap.tryAcquire(performance.now());
    if (!slot.ok) {
      stats.rateLimited();
      const seconds = Math.ceil(slot.retryAfterMs / 1000);
      reply(429, () => sendProblem(res, 429, PROBLEMS.rateLimited(), retryAfterHeader(seconds)));
      return null;
    }
    return { req, res, body, json, reply, perturb: () => perturb(req, res, number, reply) };
  }

  /**
   * Scripted answers, injected faults and latency, applied once a route has found the request valid: a client
   * with bad credentials always hears 401, and a script is never spent on a request that fails validation.
   * Returns null when the request has been answered (or dropped) here.
   */
  async function perturb(
    req: IncomingMessage,
    res: ServerResponse,
    number: string | null,
    reply: Admitted['reply'],
  ): Promise<{ fault: keyof FaultRates | null } | null> {
    const script = number !== null ? scripts.get(number)?.shift() : undefined;
    const fault = script === undefined ? pickFault(dials.faults, random()) : null;
    if (fault !== null) stats.fault(fault);
    if (fault === 'drop' || (script !== undefined && 'drop' in script)) {
      stats.status('dropped');
      req.socket.destroy();
      return null;
    }
    if (fault === 'timeout' && !(await pause(dials.slowResponseMs))) return null;
    if (!(await pause(dials.latencyMs + random() * dials.jitterMs))) return null;
    if (script !== undefined && 'status' in script) {
      reply(script.status, () => sendJson(res, script.status, script.body ?? '', { ...script.headers }));
      return null;
    }
    const problem =
      fault === 'http500'
        ? ([500, PROBLEMS.internal(), {}] as const)
        : fault === 'http503'
          ? ([503, PROBLEMS.unavailable(), {}] as const)
          : fault === 'http429'
            ? ([429, PROBLEMS.rateLimited(), retryAfterHeader(1)] as const)
            : null;
    if (problem !== null) {
      const [status, body, headers] = problem;
      // CAMARA endpoints speak their own error shape; the rest answer problem+json.
      if ((req.url ?? '').startsWith(DEVICE_STATUS_BASE)) {
        const code = status === 429 ? 'TOO_MANY_REQUESTS' : status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
        reply(status, () => sendJson(res, status, { status, code, message: body.detail }, headers));
      } else {
        reply(status, () => sendProblem(res, status, body, headers));
      }
      return null;
    }
    return { fault };
  }

  const context: RouteContext = {
    stats,
    applications,
    clock,
    seed,
    anchorMs: () => options.anchorMs ?? dayAnchor(clock()),
    deviceState: (number) =>
      devices.get(number) ?? deviceStateFor(number, seed, options.anchorMs ?? dayAnchor(clock())),
    dials: () => dials,
    random: () => random(),
    oauth,
  };
  const routes = new Map<string, Route>([
    ...IDENTITY_INSIGHTS_PATHS.map((path) => [path, identityInsightsRoute] as const),
    [NETWORK_AUTH_PATHS.authorize, bcAuthorizeRoute],
    [NETWORK_AUTH_PATHS.token, tokenRoute],
    [DEVICE_STATUS_PATHS.connectivity, connectivityRoute],
    [DEVICE_STATUS_PATHS.roaming, roamingRoute],
  ]);

  async function handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = `${req.method ?? ''} ${path}`;
    if (route === 'GET /_sim/stats') return sendJson(res, 200, stats.snapshot());
    if (route === 'POST /_sim/reset') {
      simulator.reset();
      return sendJson(res, 200, { reset: true });
    }
    if (route === 'GET /_sim/dials') return sendJson(res, 200, dials);
    if (route === 'PATCH /_sim/dials' || route === 'POST /_sim/script' || route === 'POST /_sim/devices') {
      const body = parseJson((await readBody(req, BODY_LIMIT_BYTES))?.toString('utf8') ?? '');
      try {
        if (route === 'PATCH /_sim/dials') return sendJson(res, 200, simulator.setDials(body as DialsPatch));
        if (route === 'POST /_sim/devices') {
          const { phone_number, state } = (body ?? {}) as { phone_number?: unknown; state?: unknown };
          if (typeof phone_number !== 'string') throw new TypeError('phone_number is required');
          simulator.setDevice(phone_number, state === null ? null : parseDeviceState(state, clock()));
          return sendJson(res, 200, { phone_number, state: devices.get(phone_number) ?? null });
        }
        const { phone_number, responses } = body as { phone_number: string; responses: ScriptedResponse[] };
        simulator.script(phone_number, responses);
        return sendJson(res, 200, { scripted: responses.length });
      } catch (error) {
        return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    sendProblem(res, 404, PROBLEMS.notFound());
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    const route = routes.get(path);
    const handler = route
      ? admit(req, res, path).then((admitted) => (admitted ? route(admitted, context) : undefined))
      : handleControl(req, res, path);
    handler.catch(() => {
      if (!res.headersSent) sendProblem(res, 500, PROBLEMS.internal());
      else res.destroy();
    });
  });
  server.on('connection', () => stats.connection());
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const simulator: Simulator = {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: () => stats.snapshot(),
    accessTokens: () => [...oauth.tokens.keys()],
    reset() {
      stats.reset();
      scripts.clear();
      devices.clear();
      random = seededRandom(seed);
      cap = new SlidingWindowCap(dials.rateCapPerSecond);
      oauth.clear();
    },
    dials: () => dials,
    setDials(patch) {
      dials = applyDials(dials, patch);
      cap.setLimit(dials.rateCapPerSecond);
      return dials;
    },
    script(phoneNumber, responses) {
      // Also reached from HTTP with unchecked JSON.
      const list: unknown = responses;
      if (typeof phoneNumber !== 'string' || !Array.isArray(list)) {
        throw new TypeError('a script needs phone_number and a list of responses');
      }
      scripts.set(phoneNumber, [...(scripts.get(phoneNumber) ?? []), ...(list as ScriptedResponse[])]);
    },
    setDevice(phoneNumber, state) {
      if (state === null) devices.delete(phoneNumber);
      else devices.set(phoneNumber, state);
    },
    async close() {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return simulator;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The number a request is about, as the client sent it, `+` restored; for counters and scripts. */
function peekPhoneNumber(json: unknown, body: string): string | null {
  if (json === undefined) {
    const hint =
      /(?:^|&)login_hint=tel%3A(%2B)?(\d+)/i.exec(body) ?? /(?:^|&)login_hint=tel:(\+)?(\d+)/.exec(body);
    return hint?.[2] ? `+${hint[2]}` : null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const device = (json as { device?: { phoneNumber?: unknown } }).device;
  const value = (json as { phone_number?: unknown }).phone_number ?? device?.phoneNumber;
  if (typeof value !== 'string' || value === '') return null;
  return value.startsWith('+') ? value : `+${value}`;
}
