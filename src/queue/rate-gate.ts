import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/**
 * One pacing schedule in Redis shared by every worker: GCRA ("virtual scheduling") with reservation. Each
 * request atomically takes the next slot, `1000 / rate` ms after the previous one, and waits until it comes;
 * Redis's own clock is used so machines with skewed clocks agree. A 429 pushes the schedule past the carrier's
 * `Retry-After`, pausing everyone. With no rate (0) only pauses apply.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local interval = tonumber(ARGV[1])
local pause = tonumber(ARGV[2])
if pause > 0 then
  if now + pause > tat then tat = now + pause end
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 60000)
  return 0
end
if tat < now then tat = now end
local wait = tat - now
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 60000)
return math.ceil(wait)
`;

type GateCommand = (key: string, intervalMs: string, pauseMs: string) => Promise<number>;

export class RateGate {
  private readonly intervalMs: number;
  private readonly command: GateCommand;

  constructor(
    redis: Redis,
    private readonly key: string,
    ratePerSecond: number,
  ) {
    this.intervalMs = ratePerSecond > 0 ? 1000 / ratePerSecond : 0;
    // defineCommand sends the script once and then calls it by SHA.
    if (!('reachscanRateGate' in redis))
      redis.defineCommand('reachscanRateGate', { numberOfKeys: 1, lua: SCRIPT });
    const bound = (redis as unknown as { reachscanRateGate: GateCommand }).reachscanRateGate.bind(redis);
    this.command = bound;
  }

  /** Waits for this request's slot. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const wait = await this.command(this.key, String(this.intervalMs), '0');
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
  }

  /** Nobody sends before `ms` from now (a 429's Retry-After). */
  async pause(ms: number): Promise<void> {
    await this.command(this.key, String(this.intervalMs), String(Math.max(1, Math.round(ms))));
  }
}
