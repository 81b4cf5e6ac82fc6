/** Shares (0..1) of requests that get each injected fault. Drawn in this order; their sum must not pass 1. */
export interface FaultRates {
  /** HTTP 500 problem+json. */
  readonly http500: number;
  /** HTTP 503 problem+json. */
  readonly http503: number;
  /** HTTP 429 problem+json regardless of the rate cap (a 429 storm). */
  readonly http429: number;
  /** The connection is destroyed without an answer. */
  readonly drop: number;
  /** The answer comes after `slowResponseMs` (longer than any sane client timeout). */
  readonly timeout: number;
  /** HTTP 200 with a truncated JSON body. */
  readonly malformed: number;
  /** HTTP 200 with every insight at `SUPPLIER_ERROR` (transient). */
  readonly supplierError: number;
  /** HTTP 200 with every insight at `INTERNAL_ERROR` (transient). */
  readonly internalError: number;
  /**
   * Identity Insights: HTTP 200 with the insights of `refusedInsights` at `UNAUTHORIZED` (the application is
   * not enabled for them), the others answered as usual.
   */
  readonly unauthorized: number;
  /** Identity Insights: HTTP 200 with every insight at `INVALID_PURPOSE` (the purpose is not the application's). */
  readonly invalidPurpose: number;
  /**
   * Device Status: HTTP 403 `PERMISSION_DENIED` from `/connectivity` (the reachability insight) and `/roaming`,
   * for the insights of `refusedInsights` (the credentials lack the scope).
   */
  readonly permissionDenied: number;
  /** HTTP 400: Identity Insights' invalid-JSON problem+json, Device Status' `INVALID_ARGUMENT`. */
  readonly http400: number;
  /** Identity Insights: HTTP 422 validation problem+json with `invalid_parameters` (Device Status v0.5.0 has none). */
  readonly http422: number;
}

/** The insights reachscan asks for; `refusedInsights` names some of them. */
export const INSIGHT_NAMES = ['reachability', 'roaming'] as const;
export type InsightName = (typeof INSIGHT_NAMES)[number];

/** What can be turned at start-up and at run time (`PATCH /_sim/dials`). */
export interface SimulatorDials {
  /** Added to every answer, in milliseconds. */
  readonly latencyMs: number;
  /** A uniform random 0..jitterMs is added on top of `latencyMs`. */
  readonly jitterMs: number;
  /** Global cap on accepted API requests per second (sliding window); 0 = no cap. */
  readonly rateCapPerSecond: number;
  /** Send `Retry-After` with 429 answers (some carriers don't). */
  readonly retryAfter: boolean;
  /** How late a "timeout" fault answers, in milliseconds. */
  readonly slowResponseMs: number;
  /** Share (0..1) of back-channel auth requests whose first token poll answers `authorization_pending`. */
  readonly authPendingShare: number;
  /** `interval` (seconds) bc-authorize announces; polling sooner answers `slow_down`. */
  readonly authIntervalS: number;
  /** Lifetime of an `auth_req_id`, seconds. */
  readonly authRequestTtlS: number;
  /** Lifetime of an access token, seconds. */
  readonly accessTokenTtlS: number;
  /** The insights the `unauthorized` and `permissionDenied` faults refuse (default both). */
  readonly refusedInsights: readonly InsightName[];
  /** Back-channel requests asking several API scopes at once are refused with `invalid_scope`. */
  readonly refuseCombinedScopes: boolean;
  /** The answer shape of the CAMARA v1 retrieve endpoints: v1.1 (default), v1.0 or the older v0.6. */
  readonly camaraShape: CamaraShape;
  /**
   * A CAMARA error every retrieve call answers with (after its token is checked), e.g. `QUOTA_EXCEEDED`;
   * null for none. `camaraErrorApi` says which API: both, or only reachability or roaming.
   */
  readonly camaraError: CamaraErrorCode | null;
  readonly camaraErrorApi: 'both' | 'reachability' | 'roaming';
  /** Every subscription event is posted twice (same id): a receiver must not count it twice. */
  readonly eventDuplicates: boolean;
  /**
   * Subscription events are held, then posted newest first when the dial is turned off again (or on
   * `POST /_sim/events/flush`): a receiver must not let an older event undo a newer one.
   */
  readonly eventOutOfOrder: boolean;
  readonly faults: FaultRates;
}

export const CAMARA_SHAPES = ['v1.1', 'v1.0', 'v0.6'] as const;
export type CamaraShape = (typeof CAMARA_SHAPES)[number];

/** The CAMARA errors a dial can force, with their HTTP status. */
export const CAMARA_ERRORS = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  IDENTIFIER_NOT_FOUND: 404,
  SERVICE_NOT_APPLICABLE: 422,
  MISSING_IDENTIFIER: 422,
  UNNECESSARY_IDENTIFIER: 422,
  UNSUPPORTED_IDENTIFIER: 422,
  TOO_MANY_REQUESTS: 429,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;
export type CamaraErrorCode = keyof typeof CAMARA_ERRORS;

export const NO_FAULTS: FaultRates = Object.freeze({
  http500: 0,
  http503: 0,
  http429: 0,
  drop: 0,
  timeout: 0,
  malformed: 0,
  supplierError: 0,
  internalError: 0,
  unauthorized: 0,
  invalidPurpose: 0,
  permissionDenied: 0,
  http400: 0,
  http422: 0,
});

export const DEFAULT_DIALS: SimulatorDials = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  rateCapPerSecond: 0,
  retryAfter: true,
  slowResponseMs: 30_000,
  authPendingShare: 0,
  authIntervalS: 2,
  authRequestTtlS: 120,
  accessTokenTtlS: 3600,
  refusedInsights: INSIGHT_NAMES,
  refuseCombinedScopes: false,
  camaraShape: 'v1.1',
  camaraError: null,
  camaraErrorApi: 'both',
  eventDuplicates: false,
  eventOutOfOrder: false,
  faults: NO_FAULTS,
});

export type DialsPatch = Partial<Omit<SimulatorDials, 'faults'>> & { readonly faults?: Partial<FaultRates> };

/** Applies a patch to dials, rejecting values that make no sense with a message naming the dial. */
export function applyDials(current: SimulatorDials, patch: DialsPatch): SimulatorDials {
  const next: SimulatorDials = {
    ...current,
    ...stripUndefined(patch),
    faults: { ...current.faults, ...stripUndefined(patch.faults ?? {}) },
  };
  for (const name of [
    'latencyMs',
    'jitterMs',
    'rateCapPerSecond',
    'slowResponseMs',
    'authIntervalS',
    'authRequestTtlS',
    'accessTokenTtlS',
  ] as const) {
    const value = next[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a number >= 0`);
    }
  }
  if (!(next.authPendingShare >= 0 && next.authPendingShare <= 1)) {
    throw new RangeError('authPendingShare must be a share between 0 and 1');
  }
  if (!Number.isInteger(next.rateCapPerSecond))
    throw new RangeError('rateCapPerSecond must be a whole number');
  if (typeof next.retryAfter !== 'boolean') throw new RangeError('retryAfter must be true or false');
  checkRefusedInsights(next.refusedInsights);
  checkCamaraDials(next);
  let sum = 0;
  for (const [name, rate] of Object.entries(next.faults)) {
    if (!(name in NO_FAULTS)) throw new RangeError(`unknown fault "${name}"`);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new RangeError(`faults.${name} must be a share between 0 and 1`);
    }
    sum += rate;
  }
  if (sum > 1 + 1e-9) throw new RangeError(`fault shares add up to ${sum.toFixed(3)}, more than 1`);
  return Object.freeze({
    ...next,
    refusedInsights: Object.freeze([...next.refusedInsights]),
    faults: Object.freeze(next.faults),
  });
}

/** Also reached from HTTP with unchecked JSON: a non-empty list of known insights, each once. */
function checkRefusedInsights(value: unknown): void {
  const names: readonly string[] = INSIGHT_NAMES;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    new Set(value).size !== value.length ||
    !value.every((v) => typeof v === 'string' && names.includes(v))
  )
    throw new RangeError(`refusedInsights must list some of ${INSIGHT_NAMES.join(', ')}, each once`);
}

function checkCamaraDials(next: SimulatorDials): void {
  if (typeof next.refuseCombinedScopes !== 'boolean')
    throw new RangeError('refuseCombinedScopes must be true or false');
  if (!(CAMARA_SHAPES as readonly unknown[]).includes(next.camaraShape))
    throw new RangeError(`camaraShape must be ${CAMARA_SHAPES.join(', ')}`);
  if (next.camaraError !== null && !Object.hasOwn(CAMARA_ERRORS, next.camaraError))
    throw new RangeError(`camaraError must be null or one of ${Object.keys(CAMARA_ERRORS).join(', ')}`);
  if (!['both', 'reachability', 'roaming'].includes(next.camaraErrorApi))
    throw new RangeError('camaraErrorApi must be both, reachability or roaming');
  if (typeof next.eventDuplicates !== 'boolean' || typeof next.eventOutOfOrder !== 'boolean')
    throw new RangeError('eventDuplicates and eventOutOfOrder must be true or false');
}

/** Picks at most one fault for a request from one uniform draw. */
export function pickFault(faults: FaultRates, draw: number): keyof FaultRates | null {
  let edge = 0;
  for (const name of Object.keys(NO_FAULTS) as (keyof FaultRates)[]) {
    edge += faults[name];
    if (draw < edge) return name;
  }
  return null;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
