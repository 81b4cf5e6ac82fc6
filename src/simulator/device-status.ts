import type { ServerResponse } from 'node:http';
import type { InsightName } from './dials.js';
import { sendJson } from './http-io.js';
import type { DeviceStatusScope } from './network-auth.js';
import type { Route } from './route.js';

export const DEVICE_STATUS_BASE = '/camara/device-status/v050';
export const DEVICE_STATUS_PATHS = {
  connectivity: `${DEVICE_STATUS_BASE}/connectivity`,
  roaming: `${DEVICE_STATUS_BASE}/roaming`,
} as const;

const MESSAGES: Readonly<Record<number, [string, string]>> = {
  400: ['INVALID_ARGUMENT', 'Client specified an invalid argument, request body or query param.'],
  401: ['UNAUTHENTICATED', 'Request not authenticated due to missing, invalid, or expired credentials.'],
  403: ['PERMISSION_DENIED', 'Client does not have sufficient permissions to perform this action.'],
  404: ['NOT_FOUND', 'The specified resource is not found.'],
  415: ['INVALID_ARGUMENT', 'Content-Type must be application/json.'],
  503: ['UNAVAILABLE', 'Service unavailable.'],
};

/** CAMARA's error body: `{ status, code, message }`. */
function camaraError(res: ServerResponse, status: number): void {
  const [code, message] = MESSAGES[status] ?? ['INTERNAL', 'Server error.'];
  sendJson(res, status, { status, code, message });
}

const PHONE = /^\+?[0-9]{5,15}$/;

/** The insight each scope answers, as the `refusedInsights` dial names them. */
const INSIGHT_OF: Readonly<Record<DeviceStatusScope, InsightName>> = {
  connectivity: 'reachability',
  roaming: 'roaming',
};

/**
 * POST /connectivity and /roaming: an access token for this number and this scope, `{ device: { phoneNumber } }`.
 * The same device state Identity Insights reports, so both providers agree on every number.
 */
function deviceStatusRoute(scope: DeviceStatusScope): Route {
  return async (request, context) => {
    const { req, res, reply } = request;
    const correlator = echoCorrelator(req.headers['x-correlator'], res);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer !== undefined ? context.oauth.tokens.get(bearer) : undefined;
    if (!grant || context.clock() >= grant.expiresAtMs) return reply(401, () => camaraError(res, 401));
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return reply(415, () => camaraError(res, 415));
    const device = (request.json as { device?: { phoneNumber?: unknown } } | undefined)?.device;
    const raw = device?.phoneNumber;
    if (typeof raw !== 'string' || !PHONE.test(raw)) return reply(400, () => camaraError(res, 400));
    const number = raw.startsWith('+') ? raw : `+${raw}`;
    if (correlator !== null) context.stats.requestId(number, correlator);
    // A token is good for one number and the scopes it was asked for only.
    if (grant.issuer !== 'vonage' || !grant.scopes.has(scope) || grant.number !== number)
      return reply(403, () => camaraError(res, 403));
    const perturbed = await request.perturb();
    if (perturbed === null) return;
    const { fault } = perturbed;
    if (fault === 'http400') return reply(400, () => camaraError(res, 400));
    // The application's credentials lack the scope: the API itself refuses, whatever the number.
    if (fault === 'permissionDenied' && context.dials().refusedInsights.includes(INSIGHT_OF[scope]))
      return reply(403, () => camaraError(res, 403));
    const state = context.deviceState(number);
    context.stats.answered(number);
    if (state.kind === 'unauthorized') return reply(403, () => camaraError(res, 403));
    if (state.kind !== 'device') return reply(404, () => camaraError(res, 404));
    if (scope === 'connectivity') {
      if (state.reachabilityStatus === 'NO_COVERAGE') return reply(404, () => camaraError(res, 404));
      if (state.reachabilityStatus === 'UNAUTHORIZED') return reply(403, () => camaraError(res, 403));
      const connectivityStatus = !state.reachable
        ? 'NOT_CONNECTED'
        : state.connectivity.includes('DATA')
          ? 'CONNECTED_DATA'
          : 'CONNECTED_SMS';
      return reply(200, () => sendJson(res, 200, { connectivityStatus }));
    }
    const body =
      state.roaming === null
        ? { roaming: false }
        : { roaming: true, countryCode: state.roaming.mcc, countryName: [...state.roaming.countries] };
    reply(200, () => sendJson(res, 200, body));
  };
}

/** CAMARA: a valid `x-correlator` comes back on the response (it is what the client quotes to the operator). */
function echoCorrelator(header: string | string[] | undefined, res: ServerResponse): string | null {
  if (typeof header !== 'string' || !/^[a-zA-Z0-9-_:;./<>{}]{0,256}$/.test(header)) return null;
  res.setHeader('x-correlator', header);
  return header;
}

export const connectivityRoute = deviceStatusRoute('connectivity');
export const roamingRoute = deviceStatusRoute('roaming');
