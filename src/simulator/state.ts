import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import { dayAnchor, deviceStateFor, type DeviceState } from './device-state.js';
import { applyDials, DEFAULT_DIALS, type DialsPatch, type SimulatorDials } from './dials.js';
import { toApplicationRecord } from './jwt-check.js';
import { NetworkAuthState } from './network-auth.js';
import { toClientRecord } from './operator-auth.js';
import { seededRandom } from './random.js';
import { SlidingWindowCap } from './rate-cap.js';
import type { RouteContext } from './route.js';
import { StatsCounter } from './stats.js';
import { SubscriptionBook } from './subscriptions.js';
import type { ScriptedResponse, SimulatorOptions } from './types.js';

/** Everything one simulator holds and changes while it runs; each `startSimulator` call has its own. */
export class SimulatorState {
  readonly stats = new StatsCounter();
  readonly oauth = new NetworkAuthState();
  /** What routes see; it reads dials and draws through this state, so `setDials` and `reset` reach it. */
  readonly context: RouteContext;
  private readonly seed: string;
  private current: SimulatorDials;
  private cap: SlidingWindowCap;
  private random: () => number;
  private readonly scripts = new Map<string, ScriptedResponse[]>();
  private readonly devices = new Map<string, DeviceState>();
  private readonly closing = new AbortController();
  /** CAMARA subscriptions; their events name the simulator's URL as `source` once it listens. */
  readonly subscriptions: SubscriptionBook;
  url = 'http://simulator';

  constructor(options: SimulatorOptions) {
    // Every request in flight waits out its latency listening for the close: hundreds at once are normal.
    setMaxListeners(0, this.closing.signal);
    this.seed = options.seed ?? 'reachscan';
    const applications = new Map(options.applications.map((a) => [a.applicationId, toApplicationRecord(a)]));
    this.current = applyDials(DEFAULT_DIALS, options.dials ?? {});
    this.cap = new SlidingWindowCap(this.current.rateCapPerSecond);
    this.random = seededRandom(this.seed);
    this.context = this.routeContext(options, options.clock ?? systemClock, applications);
    this.subscriptions = new SubscriptionBook(this.context, () => this.url);
  }

  private routeContext(
    options: SimulatorOptions,
    clock: Clock,
    applications: RouteContext['applications'],
  ): RouteContext {
    const seed = this.seed;
    const anchorMs = () => options.anchorMs ?? dayAnchor(clock());
    return {
      stats: this.stats,
      applications,
      clock,
      seed,
      anchorMs,
      deviceState: (number) => this.devices.get(number) ?? deviceStateFor(number, seed, anchorMs()),
      dials: () => this.current,
      random: () => this.random(),
      oauth: this.oauth,
      operatorClients: new Map((options.operatorClients ?? []).map((c) => [c.clientId, toClientRecord(c)])),
      apiKeys: new Set(options.apiKeys ?? []),
    };
  }

  dials(): SimulatorDials {
    return this.current;
  }

  setDials(patch: DialsPatch): SimulatorDials {
    this.current = applyDials(this.current, patch);
    this.cap.setLimit(this.current.rateCapPerSecond);
    return this.current;
  }

  /** Back to a fresh start: counters, scripts, devices, the fault sequence, the rate-cap window and OAuth. */
  reset(): void {
    this.stats.reset();
    this.scripts.clear();
    this.devices.clear();
    this.random = seededRandom(this.seed);
    this.cap = new SlidingWindowCap(this.current.rateCapPerSecond);
    this.oauth.clear();
    this.subscriptions.clear();
  }

  script(phoneNumber: string, responses: readonly ScriptedResponse[]): void {
    // Also reached from HTTP with unchecked JSON.
    const list: unknown = responses;
    if (typeof phoneNumber !== 'string' || !Array.isArray(list)) {
      throw new TypeError('a script needs phone_number and a list of responses');
    }
    this.scripts.set(phoneNumber, [
      ...(this.scripts.get(phoneNumber) ?? []),
      ...(list as ScriptedResponse[]),
    ]);
  }

  /** The next scripted answer lined up for a number, taken off its list. */
  takeScript(phoneNumber: string): ScriptedResponse | undefined {
    return this.scripts.get(phoneNumber)?.shift();
  }

  /** Sets (null: forgets) a number's device; its subscriptions hear of the change. */
  setDevice(phoneNumber: string, state: DeviceState | null): void {
    const before = this.context.deviceState(phoneNumber);
    if (state === null) this.devices.delete(phoneNumber);
    else this.devices.set(phoneNumber, state);
    this.subscriptions.deviceChanged(phoneNumber, before, this.context.deviceState(phoneNumber));
  }

  /** The state a test told the network for a number, or null when the seeded rules apply. */
  device(phoneNumber: string): DeviceState | null {
    return this.devices.get(phoneNumber) ?? null;
  }

  accessTokens(): string[] {
    return [...this.oauth.tokens.keys()];
  }

  /** The next draw of the seeded fault sequence. */
  draw(): number {
    return this.random();
  }

  takeRateSlot(nowMs: number): ReturnType<SlidingWindowCap['tryAcquire']> {
    return this.cap.tryAcquire(nowMs);
  }

  /** Some carriers send no `Retry-After`; the `retryAfter` dial plays those. */
  retryAfterHeader(seconds: number): Record<string, string> {
    return this.current.retryAfter ? { 'retry-after': String(seconds) } : {};
  }

  /** Waits `ms`; false when the simulator closed meanwhile (the request is then left unanswered). */
  async pause(ms: number): Promise<boolean> {
    if (ms <= 0) return true;
    try {
      await sleep(ms, undefined, { signal: this.closing.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Ends every pending pause: called on close. */
  stopPauses(): void {
    this.closing.abort();
    this.subscriptions.close();
  }
}
