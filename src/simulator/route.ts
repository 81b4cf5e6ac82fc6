import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { DeviceState } from './device-state.js';
import type { FaultRates, SimulatorDials } from './dials.js';
import type { ApplicationRecord } from './jwt-check.js';
import type { NetworkAuthState } from './network-auth.js';
import type { OperatorClientRecord } from './operator-auth.js';
import type { StatsCounter } from './stats.js';

/** A request that passed the shared gate (rate cap, faults, latency); its route answers it. */
export interface Admitted {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The raw body as text, and parsed as JSON when it is JSON. */
  readonly body: string;
  readonly json: unknown;
  /** Answers and counts the status. */
  readonly reply: (status: number, send: () => void) => void;
  /**
   * Call once the request is valid: applies a scripted answer, an injected fault and latency. Null means it
   * has been answered (or dropped); otherwise the fault the route renders itself (malformed body, transient
   * insight codes), if any. `number` names the number when the body does not (a three-legged CAMARA call):
   * its scripts then apply.
   */
  readonly perturb: (number?: string) => Promise<{ readonly fault: keyof FaultRates | null } | null>;
}

/** What routes share: counters, the known applications, time and the outcome seed. */
export interface RouteContext {
  readonly stats: StatsCounter;
  readonly applications: ReadonlyMap<string, ApplicationRecord>;
  readonly clock: Clock;
  readonly seed: string;
  /** The time answers count back from. */
  anchorMs(): number;
  /** What the network knows about a number: a test's override, or the seeded rules. */
  deviceState(phoneNumber: string): DeviceState;
  dials(): SimulatorDials;
  /** The simulator's seeded draw, for decisions that should repeat under the same seed. */
  random(): number;
  /** Back-channel auth requests and access tokens (Device Status, the CAMARA operator). */
  readonly oauth: NetworkAuthState;
  /** The CAMARA operator's OAuth clients, by client id. */
  readonly operatorClients: ReadonlyMap<string, OperatorClientRecord>;
  /** API keys the CAMARA endpoints accept. */
  readonly apiKeys: ReadonlySet<string>;
}

export type Route = (request: Admitted, context: RouteContext) => Promise<void>;
