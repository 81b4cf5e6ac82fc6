import { createServer, type RequestListener, type Server } from 'node:http';
import { SIMULATOR_HEADER } from '../core/lookup-result.js';
import type { AddressInfo } from 'node:net';
import { CAMARA_PATHS, reachabilityRoute, roamingRetrieveRoute } from './camara.js';
import { handleControl } from './control.js';
import { connectivityRoute, DEVICE_STATUS_PATHS, roamingRoute } from './device-status.js';
import { admit } from './gate.js';
import { sendProblem, PROBLEMS } from './http-io.js';
import { IDENTITY_INSIGHTS_PATHS, identityInsightsRoute } from './identity-insights.js';
import { bcAuthorizeRoute, NETWORK_AUTH_PATHS, tokenRoute } from './network-auth.js';
import { OPERATOR_AUTH_PATHS, operatorAuthorizeRoute, operatorTokenRoute } from './operator-auth.js';
import type { Route } from './route.js';
import { SimulatorState } from './state.js';
import { SUBSCRIPTION_PATH } from './subscriptions.js';
import type { Simulator, SimulatorOptions } from './types.js';

export { IDENTITY_INSIGHTS_PATHS } from './identity-insights.js';
export type { ScriptedResponse, Simulator, SimulatorOptions } from './types.js';

/** Starts the carrier simulator: a real HTTP server answering like Vonage's APIs and a CAMARA v1 operator. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const state = new SimulatorState(options);
  const server = createServer(requestHandler(state, apiRoutes()));
  server.on('connection', () => state.stats.connection());
  server.keepAliveTimeout = 5_000;
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const handle = simulatorHandle(state, server, address);
  state.url = handle.url;
  return handle;
}

/** Which route answers each API path; every other path belongs to the `/_sim` endpoints. */
function apiRoutes(): ReadonlyMap<string, Route> {
  return new Map<string, Route>([
    ...IDENTITY_INSIGHTS_PATHS.map((path) => [path, identityInsightsRoute] as const),
    [NETWORK_AUTH_PATHS.authorize, bcAuthorizeRoute],
    [NETWORK_AUTH_PATHS.token, tokenRoute],
    [DEVICE_STATUS_PATHS.connectivity, connectivityRoute],
    [DEVICE_STATUS_PATHS.roaming, roamingRoute],
    [OPERATOR_AUTH_PATHS.authorize, operatorAuthorizeRoute],
    [OPERATOR_AUTH_PATHS.token, operatorTokenRoute],
    [CAMARA_PATHS.reachability, reachabilityRoute],
    [CAMARA_PATHS.roaming, roamingRetrieveRoute],
  ]);
}

/** API paths go through the shared gate to their route, the rest to `/_sim`; a failure answers 500. */
function requestHandler(state: SimulatorState, routes: ReadonlyMap<string, Route>): RequestListener {
  return (req, res) => {
    // Every answer says it is simulated, so results can never pass for a real carrier's (source = simulated).
    res.setHeader(SIMULATOR_HEADER, '1');
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    const route = routes.get(path);
    const subscriptions = SUBSCRIPTION_PATH.exec(path);
    const handler = subscriptions
      ? state.subscriptions.handle(req, res, subscriptions)
      : route
        ? admit(state, req, res, path).then((admitted) =>
            admitted ? route(admitted, state.context) : undefined,
          )
        : handleControl(state, req, res, path);
    handler.catch(() => {
      if (!res.headersSent) sendProblem(res, 500, PROBLEMS.internal());
      else res.destroy();
    });
  };
}

/** Listens on host and port (0: the system picks one) and gives the address bound. */
async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

/** What `startSimulator` hands back: the address, and the state's controls. */
function simulatorHandle(state: SimulatorState, server: Server, address: AddressInfo): Simulator {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: () => state.stats.snapshot(),
    accessTokens: () => state.accessTokens(),
    revokeTokens: () => state.oauth.tokens.clear(),
    reset: () => state.reset(),
    dials: () => state.dials(),
    setDials: (patch) => state.setDials(patch),
    script: (phoneNumber, responses) => state.script(phoneNumber, responses),
    setDevice: (phoneNumber, device) => state.setDevice(phoneNumber, device),
    subscriptions: () => state.subscriptions.list(),
    flushEvents: () => state.subscriptions.flush(),
    eventsDelivered: () => state.subscriptions.delivered,
    close: () => close(state, server),
  };
}

/** Ends pending latency pauses, then closes the server and every open connection. */
async function close(state: SimulatorState, server: Server): Promise<void> {
  state.stopPauses();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
