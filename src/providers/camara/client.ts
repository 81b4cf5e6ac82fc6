import { unpaced, type BeforeRequest } from '../provider.js';
import { randomUUID } from 'node:crypto';
import type { CamaraConfig } from '../../config/camara.js';
import type { Clock } from '../../core/clock.js';
import { maskPhone, type E164 } from '../../core/e164.js';
import { FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';
import type { LookupOutcome, ReachabilityAnswer, RoamingAnswer } from '../../core/lookup-result.js';
import type { Logger } from '../../logging/logger.js';
import type { HttpTransport } from '../http/transport.js';
import type { ReachabilityProvider } from '../provider.js';
import { createCamaraAccess, type CamaraAccess, type CamaraApi, type Grant } from './access.js';
import { callFromResponse, reachabilityFromBody, roamingAnswerFromBody, type Call } from './response.js';

export interface CamaraDeps {
  readonly config: CamaraConfig;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Waits between CIBA polls; injectable so tests can move a fake clock instead. */
  readonly wait?: (ms: number) => Promise<void>;
}

const PROVIDER = 'camara';

/** Which failure decides a lookup when both calls failed: the one that must stop or pause the batch first. */
function severity(failure: LookupFailure): number {
  if (failure.retry === 'fatal') return 0;
  if (failure.pause !== undefined) return 1;
  return { 'rate-limited': 2, retryable: 3, permanent: 4, fatal: 0 }[failure.retry];
}

/**
 * CAMARA Device Reachability Status and Device Roaming Status v1 at any operator: per number, both retrieve
 * calls (with the access the configuration names), one `x-correlator` for both, answers of v1.1, v1.0 and
 * v0.6 read into one result.
 */
export function createCamaraProvider(
  deps: CamaraDeps,
): ReachabilityProvider & { readonly access: CamaraAccess } {
  const { config } = deps;
  const log = deps.logger.child({ provider: PROVIDER });
  const access = createCamaraAccess({
    auth: config.auth,
    scopeStyle: config.scopeStyle,
    purpose: config.purpose,
    transport: deps.transport,
    clock: deps.clock,
    logger: log,
    ...(deps.wait !== undefined ? { wait: deps.wait } : {}),
  });
  return {
    name: PROVIDER,
    access,
    async lookup(phoneNumber: E164, options = {}) {
      const before = options.beforeRequest ?? unpaced;
      // One correlator for both calls of a lookup: what the operator needs to find them again (request_id).
      const correlator = randomUUID();
      const target = { number: phoneNumber, correlator, signal: options.signal };
      const [reachability, roaming] = await Promise.all([
        call(deps, access, { ...target, api: 'reachability' }, before),
        call(deps, access, { ...target, api: 'roaming' }, before),
      ]);
      return lookupOutcome(log, { phoneNumber, correlator }, reachability, roaming);
    },
    servedBySimulator: () => deps.transport.servedBySimulator?.() === true,
    close: () => deps.transport.close(),
  };
}

interface Target {
  readonly number: E164;
  readonly api: CamaraApi;
  readonly correlator: string;
  readonly signal: AbortSignal | undefined;
}

/** One API call for a number: its grant, then the call; a 401 gets a fresh token once, then stops the batch. */
async function call(
  deps: CamaraDeps,
  access: CamaraAccess,
  target: Target,
  before: BeforeRequest,
): Promise<Call> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const grant = await access.authorize(target.number, target.api, before);
    if ('ok' in grant) {
      return 'answer' in grant
        ? { kind: 'answer', code: grant.answer.code, message: grant.answer.message }
        : { kind: 'failed', failure: grant.failure };
    }
    const window = await before(target.api);
    const result = await deps.transport.post(url(deps.config, target.api), {
      window,
      headers: headers(deps.config, grant, target.correlator),
      body: JSON.stringify(access.deviceInBody ? { device: { phoneNumber: target.number } } : {}),
      ...(target.signal !== undefined ? { signal: target.signal } : {}),
    });
    if (!result.ok) return { kind: 'failed', failure: result.failure };
    if (result.response.status !== 401)
      return callFromResponse(result.response, target.api, target.number, deps.clock);
    // A token refused before its time (revoked, clock skew): one fresh one, then our credentials are wrong.
    if (attempt === 0 && access.refused(grant)) continue;
    return { kind: 'failed', failure: unauthenticated(grant) };
  }
  return { kind: 'failed', failure: unauthenticated({ headers: {} }) };
}

function url(config: CamaraConfig, api: CamaraApi): string {
  return config.apiBaseUrl + (api === 'reachability' ? config.reachabilityPath : config.roamingPath);
}

function headers(config: CamaraConfig, grant: Grant, correlator: string): Record<string, string> {
  return {
    ...config.extraHeaders,
    ...grant.headers,
    'content-type': 'application/json',
    accept: 'application/json',
    'x-correlator': correlator,
  };
}

function unauthenticated(grant: Grant): LookupFailure {
  return {
    code: FAILURE_CODE.auth,
    retry: RETRY_CLASS.fatal,
    httpStatus: 401,
    upstreamCode: 'UNAUTHENTICATED',
    detail:
      grant.token === undefined
        ? 'HTTP 401: the operator refuses the API key (CAMARA_API_KEY, CAMARA_API_KEY_HEADER)'
        : 'HTTP 401: the operator refuses a freshly issued access token',
  };
}

/** Both calls as one lookup outcome, logged (masked number) at debug level. */
function lookupOutcome(
  log: Logger,
  lookup: { readonly phoneNumber: E164; readonly correlator: string },
  reachability: Call,
  roaming: Call,
): LookupOutcome {
  const { phoneNumber } = lookup;
  // Either call failing in a way worth acting on fails the lookup: the pair is asked again together.
  if (reachability.kind === 'failed' || roaming.kind === 'failed') {
    const failure = [reachability, roaming]
      .flatMap((c) => (c.kind === 'failed' ? [c.failure] : []))
      .sort((a, b) => severity(a) - severity(b))[0] as LookupFailure;
    log.debug({ phone: maskPhone(phoneNumber), failure }, 'lookup failed');
    return { kind: 'failed', provider: PROVIDER, phoneNumber, failure };
  }
  const outcome: LookupOutcome = {
    kind: 'answered',
    provider: PROVIDER,
    phoneNumber,
    requestId: lookup.correlator,
    reachability: mapReachability(reachability),
    roaming: mapRoaming(roaming),
    transient: false,
  };
  log.debug(
    {
      phone: maskPhone(phoneNumber),
      reachability: outcome.reachability.status.code,
      roaming: outcome.roaming.status.code,
    },
    'lookup answered',
  );
  return outcome;
}

function mapReachability(call: Exclude<Call, { kind: 'failed' }>): ReachabilityAnswer {
  if (call.kind === 'ok') return reachabilityFromBody(call.body);
  return { status: statusOf(call), reachable: null, connectivity: [], latestStatusAt: null };
}

function mapRoaming(call: Exclude<Call, { kind: 'failed' }>): RoamingAnswer {
  if (call.kind === 'ok') return roamingAnswerFromBody(call.body);
  return { status: statusOf(call), roaming: null, countries: [], mcc: null, latestStatusAt: null };
}

function statusOf(call: Extract<Call, { kind: 'answer' }>): { code: string; message: string | null } {
  return { code: call.code, message: call.message || null };
}
