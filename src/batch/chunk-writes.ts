import type { RedisClient } from '../queue/connection.js';
import type { BatchKeys } from '../queue/keys.js';
import type { QuotaCounter } from '../queue/spend.js';
import { ABANDONED_TTL_S } from './submit.js';

/**
 * How a chunk's upstream requests are counted. `reserve`: one by one, atomically for every worker, before each
 * is sent, because the batch's budget or the provider's daily quota has a limit to keep. `tally`: neither has
 * one, so nothing can be refused and the requests are only counted: here, then added to Redis with the
 * answers they brought (one round trip for many requests instead of one each).
 */
export type SpendRule =
  { readonly kind: 'reserve' } | { readonly kind: 'tally'; readonly prices: ReadonlyMap<string, number> };

/** The rule for a batch's spend hash (as `startSpending` and `setBudget` leave it) and a quota limit. */
export function spendRule(spend: Readonly<Record<string, string>>, quotaLimit: number | null): SpendRule {
  if (spend.limit !== undefined || quotaLimit !== null) return { kind: 'reserve' };
  const prices = new Map<string, number>();
  for (const [field, value] of Object.entries(spend))
    if (field.startsWith('price:')) prices.set(field.slice('price:'.length), Number(value));
  return { kind: 'tally', prices };
}

/** Requests counted but not yet in Redis: per kind, their price, and per daily counter. */
class RequestTally {
  private requests = 0;
  private micros = 0;
  private readonly byKind = new Map<string, number>();
  private readonly byCounter = new Map<string, { count: number; ttlS: number }>();

  constructor(private readonly prices: ReadonlyMap<string, number>) {}

  add(kind: string, counter: QuotaCounter): void {
    this.requests++;
    this.micros += this.prices.get(kind) ?? 0;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const day = this.byCounter.get(counter.key);
    if (day === undefined) this.byCounter.set(counter.key, { count: 1, ttlS: counter.ttlS });
    else day.count++;
  }

  /**
   * Sends what was counted (as the reserve script would have, request by request) and starts again from zero.
   * A day's counter gets its lifetime again at each addition: its name holds its day, so it is only written
   * during that day and lives at most that long past it.
   */
  drain(redis: RedisClient, spendKey: string): Promise<unknown>[] {
    if (this.requests === 0) return [];
    const sent: Promise<unknown>[] = [
      redis.hincrby(spendKey, 'spent', this.requests),
      redis.hincrby(spendKey, 'micros', this.micros),
    ];
    for (const [kind, count] of this.byKind) sent.push(redis.hincrby(spendKey, `n:${kind}`, count));
    for (const [key, { count, ttlS }] of this.byCounter)
      sent.push(redis.incrby(key, count), redis.expire(key, ttlS));
    this.requests = 0;
    this.micros = 0;
    this.byKind.clear();
    this.byCounter.clear();
    return sent;
  }
}

/** How long a settled answer may wait for others before it is written: one round trip carries many. */
export const SAVE_EVERY_MS = 5;
/** Answers of one chunk that are written at once, without waiting for the rest of the interval. */
const SAVE_AT_MOST = 64;

/**
 * One timer for every chunk of the process: the chunks' writes of an interval are issued in the same turn of
 * the event loop, so an auto-pipelined connection sends them in one write.
 */
const due = new Set<ChunkWrites>();
let timer: NodeJS.Timeout | null = null;

function writeLater(writes: ChunkWrites): void {
  due.add(writes);
  timer ??= setTimeout(() => {
    timer = null;
    const now = [...due];
    due.clear();
    for (const w of now) w.writeNow();
  }, SAVE_EVERY_MS);
}

/**
 * A chunk's writes to Redis: its final answers, and, under a `tally` rule, its requests. Answers go out
 * together, every {@link SAVE_EVERY_MS} or {@link SAVE_AT_MOST} answers, with those of the process's other
 * chunks: each write is a system call on both sides, and one per answer cost more CPU than the answer itself.
 * `save` resolves once its answer is in Redis; the number holds its place among the process's unsaved ones until
 * then (not its lookup slot), so a worker that dies mid-chunk costs at most those numbers, asked again as they
 * are open. `flush` writes what is pending (the requests counted too) and waits for every write so far.
 */
export class ChunkWrites {
  private readonly answers = new Map<string, string>();
  private readonly refused = new Map<string, string>();
  private tally: RequestTally | null;
  private readonly writing = new Set<Promise<void>>();
  private failure: Error | null = null;
  /** Settles the `save` calls of the answers pending now, once they are written. */
  private next: Deferred | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: BatchKeys,
    rule: SpendRule,
  ) {
    this.tally = rule.kind === 'tally' ? new RequestTally(rule.prices) : null;
  }

  /** False when each request must be reserved before it is sent (see {@link SpendRule}). */
  counts(kind: string, counter: QuotaCounter): boolean {
    if (this.tally === null) return false;
    this.tally.add(kind, counter);
    return true;
  }

  /** True while requests are only counted (the `tally` rule). */
  counting(): boolean {
    return this.tally !== null;
  }

  /**
   * From now on each request is reserved (a budget was set meanwhile): what was counted goes to Redis first,
   * on the same connection, so the reservations that follow see it spent.
   */
  reserveFromNow(): void {
    if (this.tally === null) return;
    this.writeNow();
    this.tally = null;
  }

  /** Saves a number's final answer (and lists a refusal by its chunk) with the others of its interval. */
  save(number: string, answer: string, refusedInChunk: number | null): Promise<void> {
    this.answers.set(number, answer);
    if (refusedInChunk !== null) this.refused.set(number, String(refusedInChunk));
    this.next ??= deferred();
    const saved = this.next.promise;
    if (this.answers.size >= SAVE_AT_MOST) this.writeNow();
    else writeLater(this);
    return saved;
  }

  /** Writes everything pending now (answers, requests counted) and waits for every write so far. */
  async flush(): Promise<void> {
    this.writeNow();
    while (this.writing.size > 0) await Promise.all(this.writing);
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Issues the pending writes as plain commands, awaited together: on an auto-pipelined connection they share
   * one write with those of the other chunks due now.
   */
  writeNow(): void {
    due.delete(this);
    const { redis, keys } = this;
    const sent: Promise<unknown>[] = [];
    if (this.answers.size > 0) sent.push(redis.hset(keys.answers, this.answers));
    if (this.refused.size > 0)
      sent.push(redis.hset(keys.refused, this.refused), redis.expire(keys.refused, ABANDONED_TTL_S));
    this.answers.clear();
    this.refused.clear();
    if (this.tally !== null) sent.push(...this.tally.drain(redis, keys.spend));
    const waiting = this.next;
    this.next = null;
    if (sent.length === 0) return waiting?.resolve();
    const written: Promise<void> = Promise.all(sent)
      .then(() => waiting?.resolve())
      .catch((error: unknown) => {
        // Kept for flush to throw too: the chunk then fails, and its unsaved numbers are asked again on retry.
        this.failure ??= asError(error);
        waiting?.reject(this.failure);
      })
      .finally(() => this.writing.delete(written));
    this.writing.add(written);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A promise and its settlers (Promise.withResolvers, which Node 20 lacks). */
interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A chunk whose lookups were all settled before a failed write still sees the failure at its flush.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
