import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeviceState } from './device-state.js';
import { CAMARA_ERRORS, type CamaraErrorCode, type CamaraShape } from './dials.js';
import { sendJson } from './http-io.js';
import type { AccessGrant } from './network-auth.js';
import { CAMARA_API_SCOPES } from './operator-auth.js';
import type { Route, RouteContext } from './route.js';

export type CamaraApi = keyof typeof CAMARA_API_SCOPES;

/** CAMARA Device Reachability Status and Device Roaming Status v1 (the operator's `apiRoot` is the simulator). */
export const CAMARA_PATHS = {
  reachability: '/device-reachability-status/v1/retrieve',
  roaming: '/device-roaming-status/v1/retrieve',
} as const;

export function isCamaraPath(path: string): boolean {
  return path === CAMARA_PATHS.reachability || path === CAMARA_PATHS.roaming;
}

/** Nokia Network as Code's gateway: its key header, and the host header it wants beside it. */
const RAPIDAPI_HOST = 'network-as-code.nokia.rapidapi.com';

const MESSAGES: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'Client specified an invalid argument, request body or query param.',
  UNAUTHENTICATED: 'Request not authenticated due to missing, invalid, or expired credentials.',
  PERMISSION_DENIED: 'Client does not have sufficient permissions to perform this action.',
  IDENTIFIER_NOT_FOUND: 'Device identifier not found.',
  SERVICE_NOT_APPLICABLE: 'The service is not available for the provided identifier.',
  MISSING_IDENTIFIER: 'The device cannot be identified.',
  UNNECESSARY_IDENTIFIER: 'The device is already identified by the access token.',
  UNSUPPORTED_IDENTIFIER: 'The identifier provided is not supported.',
  TOO_MANY_REQUESTS: 'Rate limit reached.',
  QUOTA_EXCEEDED: 'Out of resource quota.',
  INTERNAL: 'Server error.',
  UNAVAILABLE: 'Service unavailable.',
};

/** v0.6 named some errors differently; the simulator speaks the shape its dial says. */
const V06_CODES: Readonly<Record<string, string>> = {
  IDENTIFIER_NOT_FOUND: 'DEVICE_NOT_FOUND',
  SERVICE_NOT_APPLICABLE: 'DEVICE_NOT_APPLICABLE',
  UNSUPPORTED_IDENTIFIER: 'UNSUPPORTED_DEVICE_IDENTIFIERS',
};

/** CAMARA's error body, `{ status, code, message }`, in the shape the dial names. */
export function camaraError(
  res: ServerResponse,
  shape: CamaraShape,
  code: CamaraErrorCode,
  headers: Record<string, string> = {},
): void {
  const status = CAMARA_ERRORS[code];
  const said = shape === 'v0.6' ? (V06_CODES[code] ?? code) : code;
  sendJson(res, status, { status, code: said, message: MESSAGES[code] ?? code }, headers);
}

/** How the call is authorised: a token's grant, an API key (two-legged), or the error to answer. */
export type Caller = { readonly grant: AccessGrant | null } | { readonly error: CamaraErrorCode };

export function caller(req: IncomingMessage, context: RouteContext, api: CamaraApi): Caller {
  const key = headerOf(req, 'x-api-key') ?? headerOf(req, 'x-rapidapi-key');
  if (key !== undefined) {
    const viaRapidApi = headerOf(req, 'x-rapidapi-key') !== undefined;
    const ok =
      context.apiKeys.has(key) && (!viaRapidApi || headerOf(req, 'x-rapidapi-host') === RAPIDAPI_HOST);
    return ok ? { grant: null } : { error: 'UNAUTHENTICATED' };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const grant = bearer !== undefined ? context.oauth.tokens.get(bearer) : undefined;
  if (grant?.issuer !== 'operator' || context.clock() >= grant.expiresAtMs)
    return { error: 'UNAUTHENTICATED' };
  if (!grant.scopes.has(CAMARA_API_SCOPES[api])) return { error: 'PERMISSION_DENIED' };
  return { grant };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const PHONE = /^\+[1-9][0-9]{4,14}$/;

/**
 * The number a call is about, by the rule of the token's kind: a two-legged token or an API key must name
 * the device (else 422 MISSING_IDENTIFIER), a three-legged token must not (else 422 UNNECESSARY_IDENTIFIER,
 * even for the same line). Only `phoneNumber` is supported (422 UNSUPPORTED_IDENTIFIER otherwise).
 */
function callNumber(
  json: unknown,
  grant: AccessGrant | null,
): { readonly number: string } | { readonly error: CamaraErrorCode } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: 'INVALID_ARGUMENT' };
  const device = (json as { device?: unknown }).device;
  if (grant?.number != null)
    return device === undefined ? { number: grant.number } : { error: 'UNNECESSARY_IDENTIFIER' };
  if (device === undefined) return { error: 'MISSING_IDENTIFIER' };
  if (typeof device !== 'object' || device === null || Object.keys(device).length === 0)
    return { error: 'INVALID_ARGUMENT' };
  const phone = (device as { phoneNumber?: unknown }).phoneNumber;
  if (phone === undefined) return { error: 'UNSUPPORTED_IDENTIFIER' };
  return typeof phone === 'string' && PHONE.test(phone) ? { number: phone } : { error: 'INVALID_ARGUMENT' };
}

/**
 * POST …/v1/retrieve: the caller (token or API key), the body's device by the token's kind, then the same
 * device state every other API renders, in the dial's answer shape; a dial can force any CAMARA error.
 */
function retrieveRoute(api: CamaraApi): Route {
  return async (request, context) => {
    const { req, res, reply } = request;
    const shape = context.dials().camaraShape;
    const fail = (code: CamaraErrorCode) =>
      reply(CAMARA_ERRORS[code], () =>
        camaraError(res, shape, code, code === 'TOO_MANY_REQUESTS' ? { 'retry-after': '1' } : {}),
      );
    const correlator = echoCorrelator(req.headers['x-correlator'], res);
    if (correlator === false) return fail('INVALID_ARGUMENT');
    const who = caller(req, context, api);
    if ('error' in who) return fail(who.error);
    if (forced(context, api) === 'UNAUTHENTICATED') return fail('UNAUTHENTICATED');
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return fail('INVALID_ARGUMENT');
    const named = callNumber(request.json, who.grant);
    if ('error' in named) return fail(named.error);
    const { number } = named;
    // A three-legged call names no number in its body: counted here, and its scripts applied, by the token's.
    if (who.grant?.number != null) context.stats.number(number);
    if (correlator !== null) context.stats.requestId(number, correlator);
    const perturbed = await request.perturb(number);
    if (perturbed === null) return;
    const error = forced(context, api);
    if (error !== null) return fail(error);
    const answer = render(api, context.deviceState(number), shape, context.anchorMs());
    if ('error' in answer) return fail(answer.error);
    const echo = shape === 'v1.1' && who.grant?.number == null ? { device: { phoneNumber: number } } : {};
    context.stats.answered(number);
    reply(200, () => sendJson(res, 200, { ...answer.body, ...echo }));
  };
}

/** The error the dial forces on this API, if any. */
function forced(context: RouteContext, api: CamaraApi): CamaraErrorCode | null {
  const { camaraError: code, camaraErrorApi: which } = context.dials();
  return code !== null && (which === 'both' || which === api) ? code : null;
}

/** A device state as a retrieve answer, or the error CAMARA gives for it. */
function render(
  api: CamaraApi,
  state: DeviceState,
  shape: CamaraShape,
  anchorMs: number,
): { readonly body: Record<string, unknown> } | { readonly error: CamaraErrorCode } {
  if (state.kind === 'invalid-number' || state.kind === 'unknown-subscriber')
    return { error: 'IDENTIFIER_NOT_FOUND' };
  // Fixed lines, no coverage, and lines whose owner does not allow it: not offered for this line.
  if (state.kind !== 'device') return { error: 'SERVICE_NOT_APPLICABLE' };
  if (api === 'roaming') {
    const roaming =
      state.roaming === null
        ? { roaming: false }
        : { roaming: true, countryCode: state.roaming.mcc, countryName: [...state.roaming.countries] };
    return { body: { lastStatusTime: new Date(state.roamingChangedAt).toISOString(), ...roaming } };
  }
  if (state.reachabilityStatus === 'NO_COVERAGE' || state.reachabilityStatus === 'UNAUTHORIZED')
    return { error: 'SERVICE_NOT_APPLICABLE' };
  // The last time the network confirmed the status; v1.1 requires one, so a state without says the day's start.
  const confirmedAt = state.connectivityChangedAt ?? (shape === 'v1.1' ? anchorMs : null);
  const time = confirmedAt === null ? {} : { lastStatusTime: new Date(confirmedAt).toISOString() };
  if (shape === 'v0.6') {
    const status = !state.reachable
      ? 'NOT_CONNECTED'
      : state.connectivity.includes('DATA')
        ? 'CONNECTED_DATA'
        : 'CONNECTED_SMS';
    return { body: { ...time, reachabilityStatus: status } };
  }
  return {
    body: {
      ...time,
      reachable: state.reachable,
      ...(state.reachable ? { connectivity: [...state.connectivity] } : {}),
    },
  };
}

/**
 * CAMARA: a valid `x-correlator` comes back on the response; an invalid one is a 400 (false); none, null.
 */
function echoCorrelator(header: string | string[] | undefined, res: ServerResponse): string | null | false {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !/^[a-zA-Z0-9-_:;./<>{}]{0,256}$/.test(header)) return false;
  res.setHeader('x-correlator', header);
  return header;
}

export const reachabilityRoute = retrieveRoute('reachability');
export const roamingRetrieveRoute = retrieveRoute('roaming');
