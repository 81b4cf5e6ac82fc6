import type { Logger } from '../logging/logger.js';
import type { UpstreamObserver, UpstreamRequestEvent } from '../providers/http/transport.js';
import type { RedisClient } from '../queue/connection.js';
import { bucketIndex, FIELD, metricsKey, SECOND_KEY_TTL_S, upstreamSecondKey } from './keys.js';

export interface UpstreamRecorderOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger: Logger;
  /** How often the counts go to Redis, in ms. Default 1,000. */
  readonly flushEveryMs?: number;
  /** Wall clock, ms (the per-second rate keys). */
  readonly now?: () => number;
}

/**
 * A worker's upstream request counters: counted in memory as requests end, added to Redis (HINCRBY) about
 * once a second, so thousands of requests a second cost one round trip, and every worker's counts add up in
 * one place for `/metrics`, however many workers there are.
 */
export class UpstreamMetricsRecorder {
  private fields = new Map<string, number>();
  private perSecond = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: UpstreamRecorderOptions) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => void this.flush(), options.flushEveryMs ?? 1_000);
    // Metrics never keep a process alive.
    this.timer.unref();
  }

  readonly observe: UpstreamObserver = (event: UpstreamRequestEvent) => {
    const seconds = Math.max(0, event.durationMs) / 1_000;
    this.add(this.fields, FIELD.upstream(event.status), 1);
    this.add(this.fields, FIELD.bucket(bucketIndex(seconds)), 1);
    this.add(this.fields, FIELD.durationCount, 1);
    this.add(this.fields, FIELD.durationSumUs, Math.round(seconds * 1_000_000));
    this.add(this.perSecond, Math.floor(this.now() / 1_000), 1);
  };

  /** Sends what was counted since the last flush; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.send());
    return this.flushing;
  }

  /** Stops the timer and sends the last counts. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async send(): Promise<void> {
    if (this.fields.size === 0 && this.perSecond.size === 0) return;
    const fields = this.fields;
    const perSecond = this.perSecond;
    this.fields = new Map();
    this.perSecond = new Map();
    const key = metricsKey(this.options.prefix);
    const multi = this.options.redis.multi();
    for (const [field, by] of fields) multi.hincrby(key, field, by);
    for (const [second, by] of perSecond) {
      const secondKey = upstreamSecondKey(this.options.prefix, second);
      multi.incrby(secondKey, by).expire(secondKey, SECOND_KEY_TTL_S);
    }
    try {
      await multi.exec();
    } catch (error) {
      // Redis away for a moment: keep the counts for the next flush rather than lose them.
      for (const [field, by] of fields) this.add(this.fields, field, by);
      for (const [second, by] of perSecond) this.add(this.perSecond, second, by);
      this.options.logger.warn({ err: (error as Error).message }, 'metrics flush failed; kept for the next');
    }
  }

  private add<K>(map: Map<K, number>, key: K, by: number): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }
}
