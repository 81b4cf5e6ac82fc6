import type { E164 } from '../../core/e164.js';
import { FAILURE_CODE, RETRY_CLASS } from '../../core/errors.js';
import { isTransientInsightStatus } from '../../core/insight-status.js';
import type {
  InsightStatus,
  LookupOutcome,
  ReachabilityAnswer,
  RoamingAnswer,
} from '../../core/lookup-result.js';
import { httpFailure } from '../http/failure.js';
import { scrubUpstreamText } from '../http/json.js';
import type { HttpResponse } from '../http/transport.js';

const PROVIDER = 'identity-insights';

/**
 * Maps one Identity Insights HTTP response into a lookup outcome. Liberal in what it accepts: unknown status
 * codes and connectivity values are kept verbatim, odd field types become "not said" instead of a crash.
 */
export function mapIdentityInsightsResponse(
  phoneNumber: E164,
  response: HttpResponse,
  nowMs: number,
): LookupOutcome {
  if (response.status < 200 || response.status > 299) {
    return {
      kind: 'failed',
      provider: PROVIDER,
      phoneNumber,
      failure: httpFailure(response, nowMs, problemText(response.body, phoneNumber)),
    };
  }
  const body = parseJson(response.body);
  if (!isRecord(body) || !isRecord(body.insights)) {
    return {
      kind: 'failed',
      provider: PROVIDER,
      phoneNumber,
      failure: {
        code: FAILURE_CODE.badResponse,
        retry: RETRY_CLASS.retryable,
        detail: `HTTP ${response.status} with a body that is not an insights answer`,
        httpStatus: response.status,
      },
    };
  }
  const reachability = mapReachability(body.insights.reachability);
  const roaming = mapRoaming(body.insights.roaming);
  return {
    kind: 'answered',
    provider: PROVIDER,
    phoneNumber,
    requestId: typeof body.request_id === 'string' ? body.request_id : null,
    reachability,
    roaming,
    transient:
      isTransientInsightStatus(reachability.status.code) || isTransientInsightStatus(roaming.status.code),
  };
}

function mapReachability(raw: unknown): ReachabilityAnswer {
  if (!isRecord(raw)) return { status: MISSING, reachable: null, connectivity: [], latestStatusAt: null };
  const reachable = typeof raw.is_reachable === 'boolean' ? raw.is_reachable : null;
  return {
    status: readStatus(raw.status),
    reachable,
    // Connectivity describes a reachable device only; an extensible list, so values are kept as sent.
    connectivity: reachable === false ? [] : stringList(raw.connectivity, (v) => v),
    latestStatusAt: readTimestamp(raw.latest_status_at),
  };
}

function mapRoaming(raw: unknown): RoamingAnswer {
  if (!isRecord(raw))
    return { status: MISSING, roaming: null, countries: [], mcc: null, latestStatusAt: null };
  const roaming = typeof raw.is_roaming === 'boolean' ? raw.is_roaming : null;
  return {
    status: readStatus(raw.status),
    roaming,
    countries: roaming === false ? [] : stringList(raw.country_codes, (v) => v.toUpperCase()),
    mcc: null,
    latestStatusAt: readTimestamp(raw.latest_status_at),
  };
}

const MISSING: InsightStatus = {
  code: FAILURE_CODE.badResponse,
  message: 'insight missing from the response',
};

function readStatus(raw: unknown): InsightStatus {
  if (!isRecord(raw) || typeof raw.code !== 'string' || raw.code.trim() === '') {
    return { code: FAILURE_CODE.badResponse, message: 'insight has no status code' };
  }
  return { code: raw.code.trim(), message: typeof raw.message === 'string' ? raw.message : null };
}

function stringList(raw: unknown, normalise: (value: string) => string): string[] {
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  for (const item of raw) {
    if (typeof item === 'string' && item.trim() !== '') seen.add(normalise(item.trim()));
  }
  return [...seen];
}

/** Normalised to UTC ISO 8601 with milliseconds; unparseable values become null rather than garbage. */
function readTimestamp(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** "title: detail [name: reason]" from a problem+json body, scrubbed, bounded in length. */
function problemText(body: string, phoneNumber: E164): string {
  const problem = parseJson(body);
  if (!isRecord(problem)) return '';
  const parts: string[] = [];
  if (typeof problem.title === 'string') parts.push(problem.title);
  if (typeof problem.detail === 'string') parts.push(problem.detail);
  if (Array.isArray(problem.invalid_parameters)) {
    for (const p of problem.invalid_parameters) {
      if (isRecord(p)) parts.push(`${String(p.name)}: ${String(p.reason)}`);
    }
  }
  const text = scrubUpstreamText(parts.join(': ').replace(/\s+/g, ' '), phoneNumber);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
