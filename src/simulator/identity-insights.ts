import { randomUUID } from 'node:crypto';
import type { DeviceState } from './device-state.js';
import { PROBLEMS, sendJson, sendProblem } from './http-io.js';
import { checkApplicationJwt } from './jwt-check.js';
import type { FaultRates } from './dials.js';
import type { Route, RouteContext } from './route.js';

export const SUPPORTED_INSIGHTS = ['reachability', 'roaming'] as const;
export type SupportedInsight = (typeof SUPPORTED_INSIGHTS)[number];

export interface InvalidParameter {
  readonly name: string;
  readonly reason: string;
}

export interface ValidRequest {
  /** E.164 with the leading `+` restored. */
  readonly phoneNumber: string;
  readonly purpose: string;
  readonly insights: readonly SupportedInsight[];
}

const PHONE_SHAPE = /^\+?[1-9]\d{6,14}$/;

/** Validates a parsed request body the way the API does; problems become a 422 with `invalid_parameters`. */
export function validateRequest(body: unknown): ValidRequest | InvalidParameter[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ name: 'body', reason: 'must be a JSON object' }];
  }
  const record = body as Record<string, unknown>;
  const problems: InvalidParameter[] = [];
  const phone = record.phone_number;
  if (phone === undefined || phone === null || phone === '') {
    problems.push({ name: 'phone_number', reason: 'is required' });
  } else if (typeof phone !== 'string' || !PHONE_SHAPE.test(phone)) {
    problems.push({
      name: 'phone_number',
      reason: 'must be in E.164 format, country code first, without 00',
    });
  }
  const insights = record.insights;
  const asked: SupportedInsight[] = [];
  if (typeof insights !== 'object' || insights === null || Array.isArray(insights)) {
    problems.push({ name: 'insights', reason: 'is required and must be an object' });
  } else {
    const entries = Object.entries(insights as Record<string, unknown>);
    if (entries.length === 0) problems.push({ name: 'insights', reason: 'at least one insight is required' });
    for (const [name, value] of entries) {
      if (!(SUPPORTED_INSIGHTS as readonly string[]).includes(name)) {
        problems.push({ name: `insights.${name}`, reason: 'is not a supported insight' });
      } else if (typeof value !== 'object' || value === null || Object.keys(value).length > 0) {
        problems.push({ name: `insights.${name}`, reason: 'must be an empty object' });
      } else {
        asked.push(name as SupportedInsight);
      }
    }
  }
  const purpose = record.purpose;
  if (typeof purpose !== 'string' || purpose === '') {
    problems.push({ name: 'purpose', reason: 'is required for network insights' });
  }
  if (problems.length > 0) return problems;
  const number = phone as string;
  return {
    phoneNumber: number.startsWith('+') ? number : `+${number}`,
    purpose: purpose as string,
    insights: asked,
  };
}

const MESSAGES: Readonly<Record<string, string>> = {
  OK: 'Success',
  PARTIAL_SUCCESS: 'Some fields could not be retrieved.',
  INVALID_NUMBER_FORMAT: 'Invalid phone number format.',
  UNSUPPORTED_NETWORK_TYPE: 'The network type of this number is not supported.',
  NO_COVERAGE: 'The number is not covered by a supported network.',
  NOT_FOUND: 'Unknown phone number.',
  UNAUTHORIZED: 'The operator does not allow this insight for this number.',
  INVALID_PURPOSE: 'The purpose is not attached to this application.',
  SUPPLIER_ERROR: 'The supplier did not answer.',
  INTERNAL_ERROR: 'Internal error.',
};

function status(code: string) {
  return { code, message: MESSAGES[code] ?? code };
}

/** A status forced on some insights instead of the device's answer (a wrong purpose, an injected fault). */
export interface ForcedStatus {
  readonly code: 'UNAUTHORIZED' | 'INVALID_PURPOSE' | 'SUPPLIER_ERROR' | 'INTERNAL_ERROR';
  readonly insights: readonly SupportedInsight[];
}

/** Renders a device state as the `insights` object of a 200 answer. */
export function renderInsights(
  state: DeviceState,
  asked: readonly SupportedInsight[],
  forced: ForcedStatus | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const insight of asked) {
    if (forced?.insights.includes(insight) === true) out[insight] = { status: status(forced.code) };
    else out[insight] = insight === 'reachability' ? renderReachability(state) : renderRoaming(state);
  }
  return out;
}

function stateCode(state: DeviceState): string | null {
  switch (state.kind) {
    case 'invalid-number':
      return 'INVALID_NUMBER_FORMAT';
    case 'unsupported-network':
      return 'UNSUPPORTED_NETWORK_TYPE';
    case 'unknown-subscriber':
      return 'NOT_FOUND';
    case 'no-coverage':
      return 'NO_COVERAGE';
    case 'unauthorized':
      return 'UNAUTHORIZED';
    case 'device':
      return null;
  }
}

function renderReachability(state: DeviceState): Record<string, unknown> {
  const code = stateCode(state);
  if (code !== null || state.kind !== 'device') return { status: status(code ?? 'INTERNAL_ERROR') };
  const override = state.reachabilityStatus;
  if (override === 'NO_COVERAGE' || override === 'UNAUTHORIZED') return { status: status(override) };
  return {
    ...(state.connectivityChangedAt !== null
      ? { latest_status_at: new Date(state.connectivityChangedAt).toISOString() }
      : {}),
    is_reachable: state.reachable,
    ...(state.reachable ? { connectivity: [...state.connectivity] } : {}),
    status: status(override ?? 'OK'),
  };
}

function renderRoaming(state: DeviceState): Record<string, unknown> {
  const code = stateCode(state);
  if (code !== null || state.kind !== 'device') return { status: status(code ?? 'INTERNAL_ERROR') };
  return {
    latest_status_at: new Date(state.roamingChangedAt).toISOString(),
    is_roaming: state.roaming !== null,
    ...(state.roaming !== null ? { country_codes: [...state.roaming.countries] } : {}),
    status: status('OK'),
  };
}

export const IDENTITY_INSIGHTS_PATHS = ['/identity-insights/v1/requests', '/v0.1/identity-insights'] as const;

/** POST /identity-insights/v1/requests (and the older /v0.1/identity-insights). */
export const identityInsightsRoute: Route = async (request, context) => {
  const { req, res, reply } = request;
  const auth = await checkApplicationJwt(req.headers.authorization, context.applications, context.clock());
  if (!auth.ok) {
    return reply(401, () => sendProblem(res, 401, PROBLEMS.unauthorized(`Invalid token: ${auth.reason}.`)));
  }
  context.stats.jwtId(auth.jti);
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return reply(415, () => sendProblem(res, 415, PROBLEMS.unsupportedMediaType()));
  }
  if (request.json === undefined) return reply(400, () => sendProblem(res, 400, PROBLEMS.invalidJson()));
  const valid = validateRequest(request.json);
  if (Array.isArray(valid)) return reply(422, () => sendProblem(res, 422, PROBLEMS.validation(valid)));
  const perturbed = await request.perturb();
  if (perturbed === null) return;
  const { fault } = perturbed;
  if (fault === 'malformed') {
    return reply(200, () =>
      sendJson(res, 200, '{"request_id":"truncated","insights":{"reachability":{"is_rea'),
    );
  }
  if (fault === 'http400') return reply(400, () => sendProblem(res, 400, PROBLEMS.invalidJson()));
  // A request shape the API refuses on every call, as a client formatting numbers wrongly would meet.
  if (fault === 'http422') {
    const invalid = [
      { name: 'phone_number', reason: 'must be in E.164 format, country code first, without 00' },
    ];
    return reply(422, () => sendProblem(res, 422, PROBLEMS.validation(invalid)));
  }
  const forced = forcedStatus(fault, auth.application.purposes.has(valid.purpose), valid.insights, context);
  const state = context.deviceState(valid.phoneNumber);
  const insights = renderInsights(state, valid.insights, forced);
  const requestId = randomUUID();
  context.stats.requestId(valid.phoneNumber, requestId);
  if (forced === null) context.stats.answered(valid.phoneNumber);
  reply(200, () => sendJson(res, 200, { request_id: requestId, insights }));
};

/** The status forced on insights: a purpose the application lacks, or an injected per-insight fault. */
function forcedStatus(
  fault: keyof FaultRates | null,
  purposeAttached: boolean,
  asked: readonly SupportedInsight[],
  context: RouteContext,
): ForcedStatus | null {
  if (!purposeAttached || fault === 'invalidPurpose') return { code: 'INVALID_PURPOSE', insights: asked };
  if (fault === 'unauthorized') return { code: 'UNAUTHORIZED', insights: context.dials().refusedInsights };
  if (fault === 'supplierError') return { code: 'SUPPLIER_ERROR', insights: asked };
  if (fault === 'internalError') return { code: 'INTERNAL_ERROR', insights: asked };
  return null;
}
