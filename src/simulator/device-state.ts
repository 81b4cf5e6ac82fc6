import { describeNumber } from '../core/e164.js';
import { numberDraws } from './random.js';
import { virtualOperatorState } from './virtual-operator.js';

const DAY_MS = 86_400_000;

/** A visited network: its MCC and the ISO countries that MCC stands for (several for shared MCCs). */
export interface RoamingPlace {
  readonly mcc: number;
  readonly countries: readonly string[];
}

/**
 * What the simulated network knows about one number, independent of which API asks. Identity Insights and
 * Device Status render the same state, so both providers agree on the same number.
 */
export type DeviceState =
  | { readonly kind: 'invalid-number' }
  | { readonly kind: 'unsupported-network'; readonly lineType: string }
  | { readonly kind: 'unknown-subscriber' }
  | { readonly kind: 'no-coverage' }
  | { readonly kind: 'unauthorized' }
  | {
      readonly kind: 'device';
      readonly reachable: boolean;
      /** Empty when not reachable. */
      readonly connectivity: readonly ('DATA' | 'SMS')[];
      /**
       * The status time the network reports (ms since epoch; null when it omits it): the last time it updated or
       * confirmed the connectivity status, as Vonage's `latest_status_at` and CAMARA's `lastStatusTime` are
       * specified. A reachable device confirms its status often; an unreachable one was last updated when it
       * dropped off. (The name predates that reading and is kept for `POST /_sim/devices`.)
       */
      readonly connectivityChangedAt: number | null;
      readonly roaming: RoamingPlace | null;
      /** The roaming status time, on the same terms. */
      readonly roamingChangedAt: number;
      /** Per-insight status overrides, for the Virtual Operator's fixed rows. */
      readonly reachabilityStatus?: 'PARTIAL_SUCCESS' | 'NO_COVERAGE' | 'UNAUTHORIZED';
    };

/** Where roaming devices are found; the multi-country MCC 340 stands for five French territories. */
export const ROAMING_PLACES: readonly RoamingPlace[] = [
  { mcc: 262, countries: ['DE'] },
  { mcc: 208, countries: ['FR'] },
  { mcc: 214, countries: ['ES'] },
  { mcc: 222, countries: ['IT'] },
  { mcc: 310, countries: ['US'] },
  { mcc: 204, countries: ['NL'] },
  { mcc: 228, countries: ['CH'] },
  { mcc: 232, countries: ['AT'] },
  { mcc: 234, countries: ['GB'] },
  { mcc: 340, countries: ['BL', 'GF', 'GP', 'MF', 'MQ'] },
];

/** Line types without a mobile network behind them: network insights do not apply. */
const NON_MOBILE = new Set([
  'FIXED_LINE',
  'TOLL_FREE',
  'PREMIUM_RATE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
]);

/**
 * The published rules (docs/simulator.md, "Outcome rules"): for a valid mobile number and seed, eight hash
 * draws decide
 *  - d0 status: 2% unknown subscriber, 1% no coverage, 1% unauthorized, 2% partial success, else OK;
 *  - d1 connectivity: 70% DATA+SMS, 8% DATA only, 7% SMS only, 15% not reachable;
 *  - d2 the status time (last updated or confirmed): reachable within the last day, not reachable when it
 *    dropped off, within the last 180 days;
 *  - d3 roaming: 12% of reachable devices (about 10% of all), d4 picks the place (never the home country),
 *    d5 when roaming last changed (14 days when roaming, 90 days when not).
 * Times count back from `anchorMs` (by default 00:00 UTC of the current day), in whole seconds.
 */
export function deviceStateFor(phoneNumber: string, seed: string, anchorMs: number): DeviceState {
  const facts = describeNumber(phoneNumber);
  if (facts.virtualOperator) return virtualOperatorState(phoneNumber, anchorMs);
  if (!facts.valid) return { kind: 'invalid-number' };
  if (facts.type !== undefined && NON_MOBILE.has(facts.type)) {
    return { kind: 'unsupported-network', lineType: facts.type };
  }
  const draw = numberDraws(seed, phoneNumber);
  const ago = (share: number, days: number) => anchorMs - Math.floor(share * days * 86_400) * 1000;

  const d0 = draw(0);
  if (d0 < 0.02) return { kind: 'unknown-subscriber' };
  if (d0 < 0.03) return { kind: 'no-coverage' };
  if (d0 < 0.04) return { kind: 'unauthorized' };
  const partial = d0 < 0.06;

  const d1 = draw(1);
  const connectivity: ('DATA' | 'SMS')[] =
    d1 < 0.7 ? ['DATA', 'SMS'] : d1 < 0.78 ? ['DATA'] : d1 < 0.85 ? ['SMS'] : [];
  const reachable = connectivity.length > 0;
  const changedAt = ago(draw(2), reachable ? 1 : 180);

  let roaming: RoamingPlace | null = null;
  if (reachable && draw(3) < 0.12) {
    const abroad = ROAMING_PLACES.filter((p) => !p.countries.includes(facts.country ?? ''));
    roaming = abroad[Math.floor(draw(4) * abroad.length)] ?? null;
  }
  return {
    kind: 'device',
    reachable,
    connectivity,
    connectivityChangedAt: partial ? null : changedAt,
    roaming,
    roamingChangedAt: ago(draw(5), roaming ? 14 : 90),
    ...(partial ? { reachabilityStatus: 'PARTIAL_SUCCESS' as const } : {}),
  };
}

/** 00:00 UTC of the day `nowMs` falls in: answers stay the same all day, so reruns agree. */
export function dayAnchor(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS;
}

const SIMPLE_KINDS = new Set(['invalid-number', 'unknown-subscriber', 'no-coverage', 'unauthorized']);

/**
 * A device state sent over HTTP (`POST /_sim/devices`), checked field by field. Times are ISO strings or ms
 * since the epoch (a missing roaming time means "now"); `connectivity` empty means not reachable.
 */
export function parseDeviceState(raw: unknown, nowMs: number = Date.now()): DeviceState {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('state must be an object or null');
  const r = raw as Record<string, unknown>;
  const kind = r.kind ?? 'device';
  if (typeof kind === 'string' && SIMPLE_KINDS.has(kind)) return { kind } as DeviceState;
  if (kind !== 'device')
    throw new TypeError(`state.kind must be device or one of ${[...SIMPLE_KINDS].join(', ')}`);
  const connectivity = r.connectivity ?? [];
  if (!Array.isArray(connectivity) || !connectivity.every((c) => c === 'DATA' || c === 'SMS'))
    throw new TypeError('state.connectivity must be a list of DATA and SMS');
  const time = (name: string, value: unknown): number | null => {
    if (value === undefined || value === null) return null;
    const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
    if (!Number.isFinite(ms)) throw new TypeError(`state.${name} must be a time`);
    return ms;
  };
  let roaming: RoamingPlace | null = null;
  if (r.roaming !== undefined && r.roaming !== null) {
    const place = r.roaming as { mcc?: unknown; countries?: unknown };
    if (
      typeof place.mcc !== 'number' ||
      !Array.isArray(place.countries) ||
      !place.countries.every((c) => typeof c === 'string')
    )
      throw new TypeError('state.roaming must be null or { mcc, countries }');
    roaming = { mcc: place.mcc, countries: place.countries };
  }
  const changedAt = time('connectivityChangedAt', r.connectivityChangedAt);
  return {
    kind: 'device',
    reachable: connectivity.length > 0,
    connectivity: connectivity as ('DATA' | 'SMS')[],
    connectivityChangedAt: changedAt,
    roaming,
    roamingChangedAt: time('roamingChangedAt', r.roamingChangedAt) ?? changedAt ?? nowMs,
  };
}
