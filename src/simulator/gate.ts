import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { camaraError, isCamaraPath } from './camara.js';
import { DEVICE_STATUS_BASE } from './device-status.js';
import { pickFault, type FaultRates } from './dials.js';
import { BODY_LIMIT_BYTES, parseJson, readBody, sendJson, sendProblem, PROBLEMS } from './http-io.js';
import type { Admitted } from './route.js';
import type { SimulatorState } from './state.js';

type Reply = Admitted['reply'];
type HttpFault = Extract<keyof FaultRates, 'http500' | 'http503' | 'http429'>;

/**
 * What every API request goes through before its route sees it: counters, method, body limit, the rate
 * cap. Returns null when the request has been answered already.
 */
export async function admit(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<Admitted | null> {
  const { stats } = state;
  stats.request(path);
  const reply: Reply = (status, send) => {
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

  const slot = state.takeRateSlot(performance.now());
  if (!slot.ok) {
    stats.rateLimited();
    const seconds = Math.ceil(slot.retryAfterMs / 1000);
    const headers = state.retryAfterHeader(seconds);
    // CAMARA's endpoints speak their own error shape; the rest answer problem+json.
    reply(429, () =>
      isCamaraPath(path)
        ? camaraError(res, state.dials().camaraShape, 'TOO_MANY_REQUESTS', headers)
        : sendProblem(res, 429, PROBLEMS.rateLimited(), headers),
    );
    return null;
  }
  return {
    req,
    res,
    body,
    json,
    reply,
    perturb: (named) => perturb(state, req, res, named ?? number, reply),
  };
}

/**
 * Scripted answers, injected faults and latency, applied once a route has found the request valid: a client
 * with bad credentials always hears 401, and a script is never spent on a request that fails validation.
 * Returns null when the request has been answered (or dropped) here.
 */
async function perturb(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  number: string | null,
  reply: Reply,
): Promise<{ fault: keyof FaultRates | null } | null> {
  const script = number !== null ? state.takeScript(number) : undefined;
  const fault = script === undefined ? pickFault(state.dials().faults, state.draw()) : null;
  if (fault !== null) state.stats.fault(fault);
  if (fault === 'drop' || (script !== undefined && 'drop' in script)) {
    state.stats.status('dropped');
    req.socket.destroy();
    return null;
  }
  if (fault === 'timeout' && !(await state.pause(state.dials().slowResponseMs))) return null;
  const { latencyMs, jitterMs } = state.dials();
  if (!(await state.pause(latencyMs + state.draw() * jitterMs))) return null;
  if (script !== undefined && 'status' in script) {
    reply(script.status, () => sendJson(res, script.status, script.body ?? '', { ...script.headers }));
    return null;
  }
  if (fault === 'http500' || fault === 'http503' || fault === 'http429') {
    sendHttpFault(state, req, res, fault, reply);
    return null;
  }
  return { fault };
}

/** Answers an injected HTTP error in the shape the endpoint speaks. */
function sendHttpFault(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  fault: HttpFault,
  reply: Reply,
): void {
  const [status, body, headers] =
    fault === 'http500'
      ? ([500, PROBLEMS.internal(), {}] as const)
      : fault === 'http503'
        ? ([503, PROBLEMS.unavailable(), {}] as const)
        : ([429, PROBLEMS.rateLimited(), state.retryAfterHeader(1)] as const);
  // CAMARA endpoints speak their own error shape; the rest answer problem+json.
  const path = new URL(req.url ?? '/', 'http://simulator').pathname;
  if (path.startsWith(DEVICE_STATUS_BASE) || isCamaraPath(path)) {
    const code = status === 429 ? 'TOO_MANY_REQUESTS' : status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
    reply(status, () => sendJson(res, status, { status, code, message: body.detail }, headers));
  } else {
    reply(status, () => sendProblem(res, status, body, headers));
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
