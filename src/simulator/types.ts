import type { Clock } from '../core/clock.js';
import type { DeviceState } from './device-state.js';
import type { DialsPatch, SimulatorDials } from './dials.js';
import type { SimulatedApplication } from './jwt-check.js';
import type { SimulatedClient } from './operator-auth.js';
import type { SimulatorStats } from './stats.js';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: the system picks a free port. */
  readonly port?: number;
  /** Outcomes are a pure function of (seed, number, anchor day). Default `reachscan`. */
  readonly seed?: string;
  /** Applications whose JWTs are accepted. */
  readonly applications: readonly SimulatedApplication[];
  /** Clients of the simulated CAMARA operator's OAuth endpoints (`/oidc/token`, `/oidc/bc-authorize`). */
  readonly operatorClients?: readonly SimulatedClient[];
  /** API keys the CAMARA retrieve endpoints accept (in `x-api-key`, or `x-rapidapi-key` as Nokia's gateway). */
  readonly apiKeys?: readonly string[];
  readonly dials?: DialsPatch;
  /** Clock for JWT checks and the anchor day. Rate cap and latency always use real time. */
  readonly clock?: Clock;
  /** Pins the time answers count back from (ms since epoch); default 00:00 UTC of the current day. */
  readonly anchorMs?: number;
}

/** A response a test lines up for one number, served instead of the simulated answer (in order, once each). */
export type ScriptedResponse =
  | { readonly drop: true }
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`: use it as `VONAGE_API_BASE_URL`. */
  readonly url: string;
  readonly port: number;
  stats(): SimulatorStats;
  /** Back to a fresh start: counters, scripts, the fault sequence and the rate-cap window. */
  reset(): void;
  /** Access tokens handed out so far (so tests can check none leaks into logs or outputs). */
  accessTokens(): readonly string[];
  /** Forgets every access token handed out (a revocation): the next call with one answers 401. */
  revokeTokens(): void;
  dials(): SimulatorDials;
  setDials(patch: DialsPatch): SimulatorDials;
  script(phoneNumber: string, responses: readonly ScriptedResponse[]): void;
  /**
   * Tells the network that a number's device is now in `state` (both APIs answer from it until changed again
   * or reset); null goes back to the seeded rules. How tests make a device go offline or start roaming.
   */
  setDevice(phoneNumber: string, state: DeviceState | null): void;
  /** The CAMARA subscriptions the operator holds, as its API shows them. */
  subscriptions(): readonly unknown[];
  /** Posts the events the `eventOutOfOrder` dial held, newest first; gives how many. */
  flushEvents(): number;
  /** Event posts answered (or failed) so far, duplicates included. */
  eventsDelivered(): number;
  close(): Promise<void>;
}
