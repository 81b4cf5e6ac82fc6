import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import type { SendWindow } from '../core/send-window.js';
import type { RedisClient } from './connection.js';
import { defineScript } from './scripts.js';

/**
 * One pacing schedule in Redis shared by every worker, and the one record of what it let through.
 *
 * GCRA ("virtual scheduling") with reservation spaces requests evenly: each takes the next slot, `intervalMs`
 * after the previous one, and waits until it comes (ARGV[4] = '1' when it has). But a request whose timer
 * fires late (a busy event loop) leaves together with the next ones, so the slots alone do not bound what a
 * carrier counts in a sliding second. The admissions sorted set (KEYS[3], scored by Redis time) does: a request
 * is let through only while fewer than `perSecond` were let through in the last `windowMs`; otherwise it takes
 * a slot after the oldest of them leaves. A 429 sets a pause deadline (KEYS[2]): no slot or admission falls
 * inside it. Redis's own clock is used so machines with skewed clocks agree. ARGV[6], when not empty, is an
 * admission given back unused (it came too late to be sent).
 *
 * Returns the milliseconds to wait for the slot taken (0 = admitted: go now).
 */
const reserve = defineScript<number>({
  name: 'reachscanGateReserve',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local perSecond = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
if ARGV[6] ~= '' then redis.call('ZREM', KEYS[3], ARGV[6]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
local admitted = redis.call('ZCARD', KEYS[3])
local pauseUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
local function admit()
  redis.call('ZADD', KEYS[3], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[3], math.ceil(window) + 1000)
  return 0
end
if ARGV[4] == '1' and pauseUntil <= now and admitted < perSecond then return admit() end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat < pauseUntil then tat = pauseUntil end
if admitted >= perSecond then
  local oldest = redis.call('ZRANGE', KEYS[3], admitted - perSecond, admitted - perSecond, 'WITHSCORES')
  local frees = tonumber(oldest[2]) + window
  if tat < frees then tat = frees end
end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 60000)
if tat <= now then return admit() end
return math.ceil(tat - now)
`,
});

/**
 * Sets the pause deadline (KEYS[1]) to now + ARGV[1] ms, never shortening one already set. With ARGV[2] > 0
 * (pacing under --rate) a lone 429 sets none: the first in ARGV[2] ms is only remembered (KEYS[2]), the next
 * one within that time pauses. Returns 1 when a pause was set, 0 when not.
 */
const setPause = defineScript<number>({
  name: 'reachscanGatePause',
  lua: `
local lone = tonumber(ARGV[2])
if lone > 0 then
  local seen = redis.call('EXISTS', KEYS[2])
  redis.call('SET', KEYS[2], '1', 'PX', lone)
  if seen == 0 then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then
  redis.call('SET', KEYS[1], tostring(untilMs), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
return 1
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
 * The longest a process may take from asking Redis for an admission to writing the request on its connection.
 * Longer (the event loop stalled, or a new connection was being opened), and the admission is given back and
 * asked for again, the request unsent: an admission only bounds what the carrier sees if the request leaves
 * right after it.
 */
export const STALE_ADMISSION_MS = 20;

/**
 * The admissions window: a second, plus the admission-to-send gap allowed above, plus as much again for the
 * wire and the carrier's own event loop. Any second the carrier counts then holds requests admitted within one
 * such window, so never more than `--rate` of them.
 */
export const ADMISSION_WINDOW_MS = 1000 + 2 * STALE_ADMISSION_MS;

/** Under --rate, a 429 with no other in this long only costs its request a retry; a second one pauses everyone. */
export const LONE_429_MS = 5_000;

export interface GatePace {
  /** GCRA spacing of the slots (0: no --rate). */
  readonly intervalMs: number;
  /** Most admissions in any `windowMs`. */
  readonly perSecond: number;
  readonly windowMs: number;
}

/**
 * How `--rate R` is paced: at most floor(R) admissions in any ADMISSION_WINDOW_MS, the slots spaced so that even
 * timing fills that window and no more (and never closer than 1000 / R, for rates below one a second).
 */
export function gatePace(ratePerSecond: number): GatePace {
  if (!(ratePerSecond > 0)) return { intervalMs: 0, perSecond: 0, windowMs: ADMISSION_WINDOW_MS };
  const perSecond = Math.max(1, Math.floor(ratePerSecond));
  const intervalMs = Math.max(1000 / ratePerSecond, ADMISSION_WINDOW_MS / perSecond);
  return { intervalMs, perSecond, windowMs: ADMISSION_WINDOW_MS };
}

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
  /** Names this process's admissions in the shared set apart from every other process's. */
  private readonly token = randomBytes(6).toString('base64url');
  private admissions = 0;

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

  /** A name for one admission, unique across processes. */
  admissionId(): string {
    this.admissions++;
    return `${this.token}:${this.admissions}`;
  }

  /** The pace this process has learned for a gate key (null: none yet), for logs and tests. */
  learnedRate(key: string): number | null {
    return this.learnedByKey.get(key)?.rate ?? null;
  }
}

export class RateGate {
  private readonly pacing: GatePace;
  private readonly pauseKey: string;
  private readonly admittedKey: string;
  private readonly lone429Key: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    ratePerSecond: number,
    private readonly pace: ProcessPace,
    private readonly clock: Clock = systemClock,
  ) {
    this.pacing = gatePace(ratePerSecond);
    // Suffixes keep the gate key's hash tag: one slot on a Redis Cluster, as the scripts need.
    this.pauseKey = `${key}:pause`;
    this.admittedKey = `${key}:admitted`;
    this.lone429Key = `${key}:429`;
  }

  /**
   * Waits for this request's slot and admission, and past any pause a 429 set meanwhile. Under --rate, returns
   * the admission as a send window: the request must leave before it is late, or retake a place.
   */
  async acquire(signal?: AbortSignal): Promise<SendWindow | undefined> {
    if (this.pacing.intervalMs === 0) return this.waitOutPause(signal ? { signal } : {});
    return this.admit('', signal);
  }

  /** Loops until Redis admits a request and this process can still act on the admission at once. */
  private async admit(givenBackFirst: string, signal?: AbortSignal): Promise<SendWindow> {
    const options = signal ? { signal } : {};
    const { intervalMs, perSecond, windowMs } = this.pacing;
    const keys = [this.key, this.pauseKey, this.admittedKey];
    // A place given back (it came too late to be used) is taken again at the next free slot, like every other
    // request's: places taken again at once, after a stall made several late together, would reach the carrier as
    // a burst.
    let slotCame = '0';
    let givenBack = givenBackFirst;
    for (;;) {
      const id = this.pace.admissionId();
      const askedAt = this.clock();
      const args = [intervalMs, perSecond, windowMs, slotCame, id, givenBack];
      const wait = await reserve(this.redis, keys, args);
      givenBack = '';
      if (wait <= 0) {
        const window = this.sendWindow(id, askedAt);
        if (!window.late()) return window;
        // Admitted, but this process stalled since: sent now, it could land in a second already full.
        givenBack = id;
        slotCame = '0';
      } else {
        await sleep(wait, undefined, options);
        slotCame = '1';
      }
    }
  }

  private sendWindow(id: string, askedAt: number): SendWindow {
    return {
      late: () => this.clock() - askedAt > STALE_ADMISSION_MS,
      retake: (signal) => this.admit(id, signal),
    };
  }

  /**
   * No rate of ours: no shared slot to take, only the carriers' pauses to respect (every worker sets them in
   * Redis; this process looks at most every PAUSE_LOOK_MS and sees its own at once), and the pace this process
   * has learned from 429s, kept here without a Redis call.
   */
  private async waitOutPause(options: { signal?: AbortSignal }): Promise<undefined> {
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
    return undefined;
  }

  /**
   * A 429 with `Retry-After: ms`. Without --rate: this process slows down, and nobody sends before `ms` from
   * now unless the pace was learned already and the 429 is a lone one (as below). Under --rate the gate already keeps to the rate, so a lone 429 (none other in LONE_429_MS, from any
   * worker) pauses nobody: its request is asked again at the next free slot; the next 429 pauses everyone.
   * Returns whether everyone now waits.
   */
  async pause(ms: number): Promise<boolean> {
    const wait = Math.max(1, Math.round(ms));
    const keys = [this.pauseKey, this.lone429Key];
    if (this.pacing.intervalMs > 0) return (await setPause(this.redis, keys, [wait, LONE_429_MS])) === 1;
    // Without --rate, the first 429 teaches this process the carrier's pace, and everyone waits it out. Once
    // the pace is learned, a lone 429 only lowers it (a whole-second Retry-After for a window that frees in
    // milliseconds cost a third of the time at the cap); 429s that keep coming pause everyone again.
    const learned = this.pace.learned(this.key).rate !== null;
    this.slowDown(wait);
    if (learned && (await setPause(this.redis, keys, [wait, LONE_429_MS])) === 0) return false;
    const seen = this.pace.pauseSeen.get(this.pauseKey);
    const untilMs = this.clock() + wait;
    if (seen === undefined || seen.untilMs < untilMs)
      this.pace.pauseSeen.set(this.pauseKey, { untilMs, lookedAtMs: seen?.lookedAtMs ?? 0 });
    if (!learned) await setPause(this.redis, keys, [wait, 0]);
    return true;
  }

  /** Without --rate, a 429 lowers the pace this process learned (AIMD's decrease), once per burst. */
  private slowDown(waitMs: number): void {
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
    learned.pausedUntilMs = Math.max(learned.pausedUntilMs, now + waitMs);
  }
}
