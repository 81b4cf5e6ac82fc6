import { MICROS, type PriceTable } from '../config/prices.js';
import type { CountryCode } from '../core/e164.js';
import type { ProviderName } from '../core/lookup-result.js';
import { isFresh } from '../history/number-state.js';
import type { StateStore } from '../history/state-store.js';
import { readNumberedRecords } from '../input/batch-records.js';
import type { InputShape } from '../input/sniff.js';

/**
 * Upstream requests one live number costs. Identity Insights asks both insights in one call; Device Status
 * needs back-channel auth (authorize + token) and one call per scope, connectivity and roaming. CAMARA v1
 * makes the two retrieve calls, plus, with CIBA, one authorize and one token poll for both scopes (the plan
 * command passes that count, as it depends on CAMARA_AUTH). Pending authorisations add polls; tokens a
 * long-running worker still holds save the auth calls.
 */
export const REQUESTS_PER_NUMBER: Readonly<Record<ProviderName, number>> = {
  'identity-insights': 1,
  'device-status': 6,
  camara: 2,
};

/**
 * The requests of one live number by kind, as REACHSCAN_PRICES names them (they add up to the requests per
 * number): Device Status runs one back-channel flow per scope; CAMARA with CIBA one flow for both.
 */
export function requestMix(provider: ProviderName, perNumber: number): Record<string, number> {
  if (provider === 'identity-insights') return { lookup: 1 };
  const calls: Record<string, number> =
    provider === 'device-status' ? { connectivity: 1, roaming: 1 } : { reachability: 1, roaming: 1 };
  // The rest are back-channel flows, an authorisation and a token each.
  const flows = (perNumber - 2) / 2;
  return flows > 0 ? { 'bc-authorize': flows, token: flows, ...calls } : calls;
}

/** The cost of `live` numbers at these prices, in the currency's units. */
export function estimateCost(
  prices: PriceTable,
  provider: ProviderName,
  perNumber: number,
  live: number,
): number {
  const table = prices.micros[provider] ?? {};
  let micros = 0;
  for (const [kind, count] of Object.entries(requestMix(provider, perNumber)))
    micros += (table[kind] ?? 0) * count;
  return (micros * live) / MICROS;
}

/** What a scan would do, found out before anything is paid for. */
export interface Plan {
  readonly file: string;
  readonly provider: ProviderName;
  /** Data records (malformed ones included, they are counted apart). */
  readonly rows: number;
  readonly rejected: number;
  readonly valid: number;
  readonly invalid: number;
  readonly unique: number;
  /** Unique numbers the history answers (`--max-age`), and those the carrier must be asked about. */
  readonly cached: number;
  readonly live: number;
  readonly requests_per_number: number;
  readonly upstream_requests: number;
  readonly max_age_ms: number;
  /** Requests per second (`--rate`); null when no cap of ours applies. */
  readonly rate_per_second: number | null;
  /** At that rate; null without one (then the carrier's own cap decides). */
  readonly estimated_seconds: number | null;
  /** False when the history could not be read (no Redis): cached then counts 0. */
  readonly history_available: boolean;
  /** The estimated cost at REACHSCAN_PRICES, in `currency`; null without prices. */
  readonly estimated_cost: number | null;
  readonly currency: string | null;
}

export interface PlanInput {
  readonly inputPath: string;
  readonly displayName: string;
  readonly shape: InputShape;
  readonly phoneColumn: number;
  readonly defaultCountry?: CountryCode;
  readonly provider: ProviderName;
  readonly maxAgeMs: number;
  readonly ratePerSecond: number;
  /** Requests a number costs, when it depends on settings (CAMARA's auth); else {@link REQUESTS_PER_NUMBER}. */
  readonly requestsPerNumber?: number;
  /** REACHSCAN_PRICES, for the estimated cost; absent or null: no cost shown. */
  readonly prices?: PriceTable | null;
  /** Null when no Redis answers: the plan is made without the history. */
  readonly store: StateStore | null;
  readonly nowMs: number;
}

const GROUP = 500;

/** Reads the file once (streaming; only the set of unique numbers is held) and asks the history in groups. */
export async function buildPlan(input: PlanInput): Promise<Plan> {
  let rows = 0;
  let rejected = 0;
  let valid = 0;
  let cached = 0;
  const seen = new Set<string>();
  let pending: string[] = [];
  const countCached = async () => {
    if (input.store !== null && input.maxAgeMs > 0 && pending.length > 0) {
      const states = await input.store.read(pending, input.nowMs);
      for (const state of states.values()) {
        if (isFresh(state, input.provider, input.nowMs, input.maxAgeMs)) cached++;
      }
    }
    pending = [];
  };
  const source = {
    path: input.inputPath,
    shape: input.shape,
    displayName: input.displayName,
    phoneColumn: input.phoneColumn,
    defaultCountry: input.defaultCountry,
  };
  // Record by record, keeping only the numbers: plan has nothing to write, so it holds no group of records.
  for await (const item of readNumberedRecords(source)) {
    if (item.kind === 'reject') {
      rejected++;
      continue;
    }
    rows++;
    const { phone } = item;
    if (phone.kind !== 'valid') continue;
    valid++;
    if (seen.has(phone.e164)) continue;
    seen.add(phone.e164);
    pending.push(phone.e164);
    if (pending.length >= GROUP) await countCached();
  }
  await countCached();
  const live = seen.size - cached;
  const perNumber = input.requestsPerNumber ?? REQUESTS_PER_NUMBER[input.provider];
  const requests = live * perNumber;
  const rate = input.ratePerSecond > 0 ? input.ratePerSecond : null;
  return {
    file: input.displayName,
    provider: input.provider,
    rows: rows + rejected,
    rejected,
    valid,
    invalid: rows - valid,
    unique: seen.size,
    cached,
    live,
    requests_per_number: perNumber,
    upstream_requests: requests,
    max_age_ms: input.maxAgeMs,
    rate_per_second: rate,
    estimated_seconds: rate === null ? null : Math.ceil(requests / rate),
    history_available: input.store !== null,
    estimated_cost: input.prices ? estimateCost(input.prices, input.provider, perNumber, live) : null,
    currency: input.prices?.currency ?? null,
  };
}

/** The plan as people read it. */
export function formatPlan(plan: Plan): string {
  const lines = [
    `plan for ${plan.file} (provider ${plan.provider}):`,
    `  rows:               ${plan.rows}${plan.rejected > 0 ? ` (${plan.rejected} malformed records)` : ''}`,
    `  valid numbers:      ${plan.valid} (${plan.invalid} rows without a valid number get no call)`,
    `  unique numbers:     ${plan.unique}`,
    `  from the history:   ${plan.cached}${
      plan.max_age_ms === 0
        ? ' (no --max-age: every number is asked)'
        : plan.history_available
          ? ` (checked within ${formatDuration(plan.max_age_ms / 1000)})`
          : ' (history not available: Redis is not answering)'
    }`,
    `  to ask the carrier: ${plan.live}`,
    `  upstream requests:  ${plan.upstream_requests} (${plan.requests_per_number} per number${
      plan.provider === 'device-status' || (plan.provider === 'camara' && plan.requests_per_number > 2)
        ? ', more when authorisations are pending'
        : ''
    })`,
    plan.estimated_seconds === null
      ? '  time:               no --rate given: as fast as the carrier allows'
      : `  time:               about ${formatDuration(plan.estimated_seconds)} at ${plan.rate_per_second} requests/s`,
    ...(plan.estimated_cost !== null
      ? [`  estimated cost:     ${plan.estimated_cost.toFixed(2)} ${plan.currency ?? ''} (REACHSCAN_PRICES)`]
      : []),
    '',
  ];
  return lines.join('\n');
}

/** 3725 → "1 h 2 min 5 s". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const sec = s % 60;
  if (d > 0) parts.push(`${d} d`);
  if (h > 0) parts.push(`${h} h`);
  if (m > 0) parts.push(`${m} min`);
  if (sec > 0 || parts.length === 0) parts.push(`${sec} s`);
  return parts.join(' ');
}
