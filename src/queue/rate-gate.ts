import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import type { RedisClient } from './connection.js';
import { defineScript } from './scripts.js';

/**
 * One pacing schedule in Redis shared by every worker: GCRA ("virtual scheduling") with reservation. Each
 * request atomically takes the next slot, `1000 / rate` ms after the previous one, and waits until it comes;
 * Redis's own clock is used so machines with skewed clocks agree. A 429 sets a pause deadline (KEYS[2]) that
 * every request checks when its slot comes: one that falls inside a pause takes a new slot after it, so no
 * request goes out before the carrier's `Retry-After`. With no rate (0) only pauses apply.
 *
 * Returns the milliseconds to wait (0 = go now).
 */
const reserve = defineScript<number>({
  name: 'reachscanGateReserve',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local pauseUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat < pauseUntil then tat = pauseUntil end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 60000)
return math.ceil(tat - now)
`,
});

/** Sets the pause deadline to now + ARGV[1] ms, never shortening one already set. */
const setPause = defineScript<number>({
  name: 'reachscanGatePause',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then
  redis.call('SET', KEYS[1], tostring(untilMs), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
return 0
`,
});

/** Milliseconds left of a pause, 0 when none. */
const pauseLeft = defineScript<number>({
  name: 'reachscanGatePauseLeft',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local pauseUntil = tonumber(redis.call('GET', KEYS[1]) or '0')
if pauseUntil <= now then return 0 end
return math.ceil(pauseUntil - now)
`,
});

/** How long a process trusts its last look at the shared pause when no rate applies (one Redis call per 100 ms, not per request). */
const PAUSE_LOOK_MS = 100;

/**
 * `--rate R` paces at 98% of R: requests leave a little later than their slot now and then, and at exactly R a
 * carrier counting any 1-second window would see R + 1 and answer 429 (a whole second's pause).
 */
export const RATE_HEADROOM = 0.98;

/**
 * Without --rate, each process learns the carrier's cap from its 429s, as TCP does with congestion (AIMD): on a
 * 429 it paces at 93% of what it sent in the last second, then speeds up by 0.3% a second until the next 429.
 * No coordination is needed: several workers settle on their shares of the cap.
 */
export const LEARN = {
  decrease: 0.93,
  increasePerSecond: 0.003,
  quietAfterDecreaseMs: 2_000,
  /** One 429 never takes more than half the learned pace away. */
  floor: 0.5,
} as const;
/** A pace measured over less than this is noise: the decrease alone applies. */
const MIN_MEASURE_MS = 200;

export interface Learned {
  /** Requests per second this process allows itself; null until the first 429. */
  rate: number | null;
  updatedAtMs: number;
  lastDecreaseAtMs: number;
  nextSlotMs: number;
  /** When this process's last pause ended (or ends). */
  pausedUntilMs: number;
  /** When this process's recent requests left (the last second's). */
  readonly sent: number[];
}
/**
 * What one process remembers between requests, per gate key: the pause deadline it last saw, the pace it learned
 * from 429s, and when its recent requests left. One per worker process, shared by all its gates.
 */
export class ProcessPace {
  /** Per pause key: the pause deadline last seen (or set here), and when it was looked up. */
  readonly pauseSeen = new Map<string, { untilMs: number; lookedAtMs: number }>();
  private readonly learnedByKey = new Map<string, Learned>();
  /**
   * Send times of this process's paced requests in the last second, per gate key. GCRA hands out evenly spaced
   * slots, but a request whose timer fires late (a busy event loop) leaves together with the next ones; a
   * carrier counting any 1-second window then sees more than the rate. This trailing window is the last check.
   */
  private readonly sentByKey = new Map<string, number[]>();

  learned(key: string): Learned {
    let learned = this.learnedByKey.get(key);
    if (learned === undefined) {
      learned = {
        rate: null,
        updatedAtMs: 0,
        lastDecreaseAtMs: 0,
        nextSlotMs: 0,
        pausedUntilMs: 0,
        sent: [],
      };
      this.learnedByKey.set(key, learned);
    }
    return learned;
  }

  sent(key: string): number[] {
    let sent = this.sentByKey.get(key);
    if (sent === undefined) {
      sent = [];
      this.sentByKey.set(key, sent);
    }
    return sent;
  }

  /** The pace this process has learned for a gate key (null: none yet), for logs and tests. */
  learnedRate(key: string): number | null {
    return this.learnedByKey.get(key)?.rate ?? null;
  }
}

export class RateGate {
  private readonly intervalMs: number;
  /** Most requests this process sends in any trailing second at this rate. */
  private readonly perSecond: number;
  private readonly pauseKey: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    ratePerSecond: number,
    private readonly pace: ProcessPace,
    private readonly clock: Clock = systemClock,
  ) {
    this.intervalMs = ratePerSecond > 0 ? 1000 / (ratePerSecond * RATE_HEADROOM) : 0;
    this.perSecond = Math.max(1, Math.floor(ratePerSecond * RATE_HEADROOM));
    this.pauseKey = `${key}:pause`;
  }

  /** Waits for this request's slot, and past any pause a 429 set meanwhile. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const options = signal ? { signal } : {};
    if (this.intervalMs === 0) return this.waitOutPause(options);
    for (;;) {
      const wait = await reserve(this.redis, [this.key, this.pauseKey], [this.intervalMs]);
      // A slot due now was checked against the pause just now; only a later slot needs a second look.
      if (wait <= 0) break;
      await sleep(wait, undefined, options);
      if ((await pauseLeft(this.redis, [this.pauseKey])) === 0) break;
    }
    await this.withinTrailingSecond(options);
  }

  /** Holds a request while this process already sent `perSecond` in the last 1000 ms. */
  private async withinTrailingSecond(options: { signal?: AbortSignal }): Promise<void> {
    const sent = this.pace.sent(this.key);
    for (;;) {
      const now = this.clock();
      let expired = 0;
      while (expired < sent.length && (sent[expired] as number) <= now - 1000) expired++;
      if (expired > 0) sent.splice(0, expired);
      if (sent.length < this.perSecond) {
        sent.push(now);
        return;
      }
      await sleep((sent[0] as number) + 1001 - now, undefined, options);
    }
  }

  /**
   * No rate of ours: no shared slot to take, only the carriers' pauses to respect (every worker sets them in
   * Redis; this process looks at most every PAUSE_LOOK_MS and sees its own at once), and the pace this process
   * has learned from 429s, kept here without a Redis call.
   */
  private async waitOutPause(options: { signal?: AbortSignal }): Promise<void> {
    for (;;) {
      const now = this.clock();
      let seen = this.pace.pauseSeen.get(this.pauseKey);
      if (seen === undefined || now - seen.lookedAtMs >= PAUSE_LOOK_MS) {
        const left = await pauseLeft(this.redis, [this.pauseKey]);
        seen = { untilMs: Math.max(left > 0 ? now + left : 0, seen?.untilMs ?? 0), lookedAtMs: now };
        this.pace.pauseSeen.set(this.pauseKey, seen);
      }
      if (seen.untilMs <= now) break;
      await sleep(seen.untilMs - now, undefined, options);
    }
    const learned = this.pace.learned(this.key);
    let now = this.clock();
    if (learned.rate !== null) {
      // Additive increase, then this request's slot at the learned pace.
      learned.rate *= 1 + (LEARN.increasePerSecond * (now - learned.updatedAtMs)) / 1000;
      learned.updatedAtMs = now;
      const slot = Math.max(now, learned.nextSlotMs);
      learned.nextSlotMs = slot + 1000 / learned.rate;
      if (slot > now) await sleep(slot - now, undefined, options);
      now = this.clock();
    }
    learned.sent.push(now);
    while ((learned.sent[0] ?? now) <= now - 1000) learned.sent.shift();
  }

  /** Nobody sends before `ms` from now (a 429's Retry-After); without --rate, this process also slows down. */
  async pause(ms: number): Promise<void> {
    if (this.intervalMs === 0) {
      const learned = this.pace.learned(this.key);
      const now = this.clock();
      // One decrease per burst: the other requests in flight hit the same cap, not a lower one.
      if (now - learned.lastDecreaseAtMs >= LEARN.quietAfterDecreaseMs) {
        // The pace measured since the last pause ended (at most a second back): seconds spent paused are not
        // a slow pace, or random 429s (a storm, not a cap) would drive the rate down to nothing.
        const since = Math.max(now - 1000, learned.pausedUntilMs);
        const span = now - since;
        if (span >= MIN_MEASURE_MS) {
          const measured = (learned.sent.filter((t) => t > since).length * 1000) / span;
          const target = Math.max(1, measured * LEARN.decrease);
          learned.rate =
            learned.rate === null
              ? target
              : Math.min(learned.rate * LEARN.decrease, Math.max(target, learned.rate * LEARN.floor));
        } else if (learned.rate !== null) {
          learned.rate *= LEARN.decrease;
        }
        learned.updatedAtMs = now;
        learned.lastDecreaseAtMs = now;
      }
      learned.pausedUntilMs = Math.max(learned.pausedUntilMs, now + Math.max(1, Math.round(ms)));
    }
    const wait = Math.max(1, Math.round(ms));
    const seen = this.pace.pauseSeen.get(this.pauseKey);
    const untilMs = this.clock() + wait;
    if (seen === undefined || seen.untilMs < untilMs)
      this.pace.pauseSeen.set(this.pauseKey, { untilMs, lookedAtMs: seen?.lookedAtMs ?? 0 });
    await setPause(this.redis, [this.pauseKey], [wait]);
  }
}
