import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDeviceState } from './device-state.js';
import type { DialsPatch } from './dials.js';
import { BODY_LIMIT_BYTES, parseJson, readBody, sendJson, sendProblem, PROBLEMS } from './http-io.js';
import type { SimulatorState } from './state.js';
import type { ScriptedResponse } from './types.js';

const CHANGE_ROUTES = ['PATCH /_sim/dials', 'POST /_sim/script', 'POST /_sim/devices'] as const;
type ChangeRoute = (typeof CHANGE_ROUTES)[number];

/**
 * The `/_sim` endpoints tests and `reachscan simulate` use to read counters and dials, reset, turn dials,
 * script answers and set devices. Any other path answers 404.
 */
export async function handleControl(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = `${req.method ?? ''} ${path}`;
  if (route === 'GET /_sim/stats') return sendJson(res, 200, state.stats.snapshot());
  if (route === 'GET /_sim/stats/counters') return sendJson(res, 200, state.stats.counters());
  if (route === 'POST /_sim/reset') {
    state.reset();
    return sendJson(res, 200, { reset: true });
  }
  if (route === 'GET /_sim/dials') return sendJson(res, 200, state.dials());
  if (route === 'GET /_sim/subscriptions')
    return sendJson(res, 200, {
      subscriptions: state.subscriptions.list(),
      delivered: state.subscriptions.delivered,
    });
  if (route === 'POST /_sim/events/flush') return sendJson(res, 200, { sent: state.subscriptions.flush() });
  if (isChangeRoute(route)) {
    const body = parseJson((await readBody(req, BODY_LIMIT_BYTES))?.toString('utf8') ?? '');
    try {
      return sendJson(res, 200, applyChange(state, route, body));
    } catch (error) {
      return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }
  sendProblem(res, 404, PROBLEMS.notFound());
}

function isChangeRoute(route: string): route is ChangeRoute {
  return (CHANGE_ROUTES as readonly string[]).includes(route);
}

/** Applies a change sent as unchecked JSON and gives the answer; throws (a 400) on a bad body. */
function applyChange(state: SimulatorState, route: ChangeRoute, body: unknown): unknown {
  if (route === 'PATCH /_sim/dials') {
    const before = state.dials().eventOutOfOrder;
    const dials = state.setDials(body as DialsPatch);
    // Turning the out-of-order dial off delivers what it held.
    if (before && !dials.eventOutOfOrder) state.subscriptions.flush();
    return dials;
  }
  if (route === 'POST /_sim/devices') {
    const { phone_number, state: device } = (body ?? {}) as { phone_number?: unknown; state?: unknown };
    if (typeof phone_number !== 'string') throw new TypeError('phone_number is required');
    state.setDevice(phone_number, device === null ? null : parseDeviceState(device, state.context.clock()));
    return { phone_number, state: state.device(phone_number) };
  }
  const { phone_number, responses } = body as { phone_number: string; responses: ScriptedResponse[] };
  state.script(phone_number, responses);
  return { scripted: responses.length };
}
