import type { E164 } from '../core/e164.js';
import type { LookupOutcome, ProviderName } from '../core/lookup-result.js';
import type { SendWindow } from '../core/send-window.js';

/**
 * What an upstream request is for, as price tables and budgets name it: `lookup` (Identity Insights),
 * `token` and `bc-authorize` (auth), `connectivity`, `reachability`, `roaming` (the insight calls).
 */
export type RequestKind = string;

/**
 * Awaited before every upstream request with its kind; rejects when the request must not be sent (a budget).
 * Under a shared rate it gives the request's send window, which the transport must be given with the request.
 */
export type BeforeRequest = (kind: RequestKind) => Promise<SendWindow | undefined>;

/** No shared rate: nothing to wait for. */
export const unpaced: BeforeRequest = () => Promise.resolve(undefined);

export interface LookupOptions {
  /** Cancels an in-flight call (shutdown); a cancelled lookup rejects. */
  readonly signal?: AbortSignal;
  /**
   * Awaited before every upstream HTTP request (a shared rate cap): one lookup can cost several requests
   * (Device Status: up to six), and the carrier counts each.
   */
  readonly beforeRequest?: BeforeRequest;
}

/**
 * A carrier API that tells whether a number's device is reachable and roaming. Lookups never throw for carrier
 * or network trouble: they return a failed outcome whose failure is already classified.
 */
export interface ReachabilityProvider {
  readonly name: ProviderName;
  lookup(phoneNumber: E164, options?: LookupOptions): Promise<LookupOutcome>;
  /**
   * True once the built-in simulator has answered this provider (it marks every answer): its answers are then
   * not real carrier data, and results say `source` = `simulated`.
   */
  servedBySimulator?(): boolean;
  close(): Promise<void>;
}
