import { createHash, timingSafeEqual } from 'node:crypto';
import type { HistoryOptions } from '../core/settings.js';
import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';

/** One CAMARA subscription reachscan made, as Redis keeps it (the sink token only as its SHA-256). */
export interface MonitorSubscription {
  readonly id: string;
  readonly number: string;
  readonly family: 'reachability' | 'roaming';
  readonly type: string;
  readonly expiresAtMs: number;
  /** What `--expire` asked for: a renewal asks for it again. */
  readonly durationMs: number;
  readonly tokenHash: string;
  readonly simulated: boolean;
}

/** What `monitor status` lists after the subscriptions: events received and subscriptions that ended. */
export interface MonitorLine {
  readonly at: string;
  readonly number: string;
  readonly text: string;
}

/** A change the network told of, as the history keeps it (evidence `event`). */
export interface EventChange {
  readonly number: string;
  readonly change: string;
  readonly before: string;
  readonly after: string;
  readonly evidence: 'event';
  readonly at: string;
  readonly eventId: string;
}

const KEPT_LINES = 200;
const SEEN_TTL_S = 30 * 86_400;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Push monitoring's records beside the history (same prefix and hash tag): subscriptions by id, an index by
 * number and event type (what makes `monitor start` resumable), event ids seen, each number's latest event time
 * per family, the changes events made, and the lines `monitor status` shows.
 */
export class MonitorStore {
  private readonly p: string;

  constructor(
    private readonly redis: RedisClient,
    history: HistoryOptions,
  ) {
    this.p = `${history.prefix}monitor:`;
  }

  async save(s: MonitorSubscription): Promise<void> {
    await this.redis
      .multi()
      .hset(`${this.p}sub:${s.id}`, {
        n: s.number,
        f: s.family,
        t: s.type,
        e: String(s.expiresAtMs),
        d: String(s.durationMs),
        h: s.tokenHash,
        s: s.simulated ? '1' : '0',
      })
      .hset(`${this.p}index`, `${s.number} ${s.type}`, s.id)
      .exec();
  }

  async get(id: string): Promise<MonitorSubscription | null> {
    const f = await this.redis.hgetall(`${this.p}sub:${id}`);
    if (f.n === undefined || f.t === undefined) return null;
    return {
      id,
      number: f.n,
      family: f.f === 'roaming' ? 'roaming' : 'reachability',
      type: f.t,
      expiresAtMs: Number(f.e ?? 0),
      durationMs: Number(f.d ?? 0),
      tokenHash: f.h ?? '',
      simulated: f.s === '1',
    };
  }

  /** The subscription already made for a number and event type, if any (a resumed start skips it). */
  async idFor(number: string, type: string): Promise<string | null> {
    return this.redis.hget(`${this.p}index`, `${number} ${type}`);
  }

  async all(): Promise<MonitorSubscription[]> {
    const ids = Object.values(await this.redis.hgetall(`${this.p}index`));
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((s): s is MonitorSubscription => s !== null);
  }

  async remove(s: MonitorSubscription): Promise<void> {
    const indexField = `${s.number} ${s.type}`;
    const current = await this.idFor(s.number, s.type);
    const tx = this.redis.multi().del(`${this.p}sub:${s.id}`);
    if (current === s.id) tx.hdel(`${this.p}index`, indexField);
    await tx.exec();
  }

  /** Whether the bearer token is the one reachscan issued to this subscription (constant-time). */
  static credentialMatches(s: MonitorSubscription, token: string): boolean {
    const given = Buffer.from(tokenHash(token), 'hex');
    const kept = Buffer.from(s.tokenHash, 'hex');
    return kept.length === given.length && timingSafeEqual(kept, given);
  }

  /**
   * Takes an event once: false when its (source, id) was seen, or when a later event of the same number and
   * family already came (an older event must not undo a newer state). Atomic in one script.
   */
  async admit(
    source: string,
    id: string,
    number: string,
    family: string,
    timeMs: number,
  ): Promise<'new' | 'duplicate' | 'stale'> {
    const answer = await admitEvent(
      this.redis,
      [`${this.p}seen:${source} ${id}`, `${this.p}time:${number}:${family}`],
      [SEEN_TTL_S, timeMs],
    );
    return answer === 1 ? 'new' : answer === 0 ? 'duplicate' : 'stale';
  }

  async recordChange(change: EventChange): Promise<void> {
    await this.redis.rpush(`${this.p}changes`, JSON.stringify(change));
  }

  /** Every change events made, oldest first. */
  async changes(): Promise<EventChange[]> {
    const items = await this.redis.lrange(`${this.p}changes`, 0, -1);
    return items.map((item) => JSON.parse(item) as EventChange);
  }

  async line(kind: 'events' | 'ended', line: MonitorLine): Promise<void> {
    const key = `${this.p}${kind}`;
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(line))
      .ltrim(key, 0, KEPT_LINES - 1)
      .exec();
  }

  /** The latest lines, newest first. */
  async lines(kind: 'events' | 'ended', count: number): Promise<MonitorLine[]> {
    const items = await this.redis.lrange(`${this.p}${kind}`, 0, count - 1);
    return items.map((item) => JSON.parse(item) as MonitorLine);
  }
}

/**
 * KEYS: the event's seen key, the number's latest event time for the family. ARGV: seen ttl, event time ms.
 * Returns 1 new, 0 seen before, -1 older than the latest (marked seen either way).
 */
const admitEvent = defineScript<number>({
  name: 'reachscanAdmitEvent',
  lua: `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
local latest = tonumber(redis.call('GET', KEYS[2]) or '0')
local at = tonumber(ARGV[2])
if at < latest then return -1 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`,
});
