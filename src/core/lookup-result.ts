import type { E164 } from './e164.js';
import type { LookupFailure } from './errors.js';

/** An insight's own status, verbatim from the carrier (or a local code when the carrier omitted it). */
export interface InsightStatus {
  readonly code: string;
  readonly message: string | null;
}

export interface ReachabilityAnswer {
  readonly status: InsightStatus;
  /** null when the carrier did not say. */
  readonly reachable: boolean | null;
  /** `DATA`, `SMS`, or values unknown to us, kept verbatim; empty when not reachable or not said. */
  readonly connectivity: readonly string[];
  /**
   * ISO 8601: the last time the network updated or confirmed the status (Vonage `latest_status_at`, CAMARA
   * `lastStatusTime`), not when it last changed; null when not given.
   */
  readonly latestStatusAt: string | null;
}

export interface RoamingAnswer {
  readonly status: InsightStatus;
  readonly roaming: boolean | null;
  /** ISO 3166-1 alpha-2 codes of the visited country (sometimes several, sometimes none). */
  readonly countries: readonly string[];
  /** Mobile country code of the visited network, when the provider gives one. */
  readonly mcc: number | null;
  readonly latestStatusAt: string | null;
}

export type ProviderName = 'identity-insights' | 'device-status' | 'camara';

/** Every provider reachscan speaks, as `--provider` takes them. */
export const PROVIDER_NAMES = [
  'identity-insights',
  'device-status',
  'camara',
] as const satisfies readonly ProviderName[];

/** The provider names as a sentence names them: `identity-insights, device-status or camara`. */
export const PROVIDER_LIST = `${PROVIDER_NAMES.slice(0, -1).join(', ')} or ${PROVIDER_NAMES.at(-1) ?? ''}`;

/** The carrier answered (each insight may still carry a non-OK status of its own). */
export interface AnsweredLookup {
  readonly kind: 'answered';
  readonly provider: ProviderName;
  readonly phoneNumber: E164;
  readonly requestId: string | null;
  readonly reachability: ReachabilityAnswer;
  readonly roaming: RoamingAnswer;
  /** Some insight answered with a transient code (`SUPPLIER_ERROR`, `INTERNAL_ERROR`): worth a retry. */
  readonly transient: boolean;
}

/** The response header the built-in simulator puts on every answer; no carrier sends it. */
export const SIMULATOR_HEADER = 'x-reachscan-simulator';

/** Whether a response came from the built-in simulator. */
export function isSimulatorResponse(headers: Readonly<Record<string, string>>): boolean {
  return headers[SIMULATOR_HEADER] === '1';
}

/** No usable answer: the failure says why and what to do about it. */
export interface FailedLookup {
  readonly kind: 'failed';
  readonly provider: ProviderName;
  readonly phoneNumber: E164;
  readonly failure: LookupFailure;
}

export type LookupOutcome = AnsweredLookup | FailedLookup;
