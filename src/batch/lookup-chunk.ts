import type { LimitFunction } from 'p-limit';
import { answerFromOutcome, encodeAnswer } from '../core/answer.js';
import type { Clock } from '../core/clock.js';
import { asE164 } from '../core/e164.js';
import type { LookupFailure, PauseRequest } from '../core/errors.js';
import type { LookupOutcome } from '../core/lookup-result.js';
import type { SendWindow } from '../core/send-window.js';
import { cachedAnswer, liveAnswer } from '../history/annotate.js';
import { isFresh, type NumberState } from '../history/number-state.js';
import { StateStore } from '../history/state-store.js';
import type { StateSecret } from '../core/settings.js';
import type { Logger } from '../logging/logger.js';
import type { ReachabilityProvider } from '../providers/provider.js';
import type { ChunkAttempt, ChunkLookup, ChunkVerdict } from '../queue/chunk-job.js';
import type { RedisClient } from '../queue/connection.js';
import type { ChunkJobData } from '../queue/job-data.js';
import { batchKeys, rateKey, type BatchKeys } from '../queue/keys.js';
import { RateGate, type ProcessPace } from '../queue/rate-gate.js';
import { reserveRequest } from '../queue/spend.js';
import { classifyCall, countsAsFailure, type CallOutcome } from './call-outcome.js';
import {
  DEFAULT_BREAKER,
  pauseReason,
  type BreakerBoard,
  type Trip,
  type WindowEntry,
} from './error-breaker.js';
import { ChunkWrites, spendRule } from './chunk-writes.js';
import { BudgetReached, budgetReason } from './budget.js';
import { QuotaReached, type DailyQuota } from './quota.js';
import { controlAfterDuePause, handBackPaused } from './paused.js';
import { abortBatch, pauseBatch, readControl } from './state.js';
import { sendPauseEvent } from './webhooks.js';

export interface ChunkLookupDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly provider: (name: string) => ReachabilityProvider;
  /** Lookups in flight in this process, across all chunks: upstream, from the first request to the answer. */
  readonly limit: LimitFunction;
  /**
   * Numbers of this process between their first request and their answer's write to Redis. Wider than `limit`:
   * a lookup's slot is free for the next number while its answer waits for the next write (see ChunkWrites),
   * yet a worker that dies costs at most this many numbers asked again.
   */
  readonly unsaved: LimitFunction;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Set when the worker is shutting down: no new calls, unfinished work goes back to the queue. */
  readonly stopping: AbortSignal;
  /** This process's error-ratio windows, one per batch. */
  readonly breaker: BreakerBoard;
  /** This process's memory of the rate gates (learned pace, recent sends, pauses seen). */
  readonly pace: ProcessPace;
  /** This process's REACHSCAN_STATE_SECRET: names the history's entries. */
  readonly stateSecret: StateSecret;
  /** This process's daily quota (REACHSCAN_DAILY_QUOTA, REACHSCAN_QUOTA_TZ): every request is counted in it. */
  readonly quota: DailyQuota;
}

/** After this many 429 pauses one chunk's 429s start to use up attempts, so a storm cannot last forever. */
const MAX_RATE_LIMIT_ROUNDS = 50;
const DEFAULT_PAUSE_MS = 1_000;
/** 429s one number waits out in place before its chunk goes back to the queue (a storm, not a cap). */
const IN_PLACE_429_RETRIES = 3;
/** How long a process trusts what it last read of a batch's pause before reading it again. */
const PAUSE_READ_EVERY_MS = 1_000;

/** What a call came to in the breaker's window: null when answered, else what failed (and why, for setup). */
function windowEntry(call: Exclude<CallOutcome, { kind: 'uncounted' }>): WindowEntry {
  if (call.kind === 'answered') return null;
  return call.kind === 'setup' ? { label: call.label, cause: call.cause } : call.label;
}

/**
 * Asks the carrier about a chunk's numbers and says what the queue should do next. Answers are saved as they
 * come, so a retried chunk asks only what is still open. What happens to a failure is decided by its class:
 * permanent → final answer; retryable → `retry` with backoff (on its last attempt the error becomes the
 * answer); rate-limited → `pause` of the whole queue for Retry-After without using an attempt; fatal → the
 * batch stops. When too many of the batch's recent calls fail or are refused for a setup mistake (the
 * error-ratio breaker, see `call-outcome.ts`), the batch pauses until `reachscan resume` and its chunks are
 * handed back.
 */
export function createChunkLookup(deps: ChunkLookupDeps): ChunkLookup {
  return async (data, attempt) => {
    const keys = batchKeys(deps.prefix, data.batchId);
    const control = await controlAfterDuePause(deps, data.batchId);
    if (control.aborted) return { kind: 'done', answered: 0 };
    if (control.paused) return handBackPaused(deps, keys, control.until);
    return new ChunkRun(deps, data, keys, control.resumes, attempt).run();
  };
}

/** A final answer on its way to Redis: `written` settles once it is there (wrapped, so no await adopts it). */
interface AnswerWrite {
  readonly written: Promise<void>;
}

/** One run of one chunk: its open numbers, what each call came to, and the verdict they add up to. */
class ChunkRun {
  private readonly log: Logger;
  private readonly gate: RateGate;
  private readonly provider: ReachabilityProvider;
  private previous: ReadonlyMap<string, NumberState> = new Map();
  // Another process may pause the batch while this chunk runs: looked at again now and then.
  private pausedHere = false;
  // When the pause this chunk saw lifts itself (the daily quota's reset); null: at `reachscan resume`.
  private pausedUntil: number | null = null;
  private pauseReadAt: number;
  private saved = 0;
  private retryLater = 0;
  private pausedInPlace = 0;
  private pauseMs: number | null = null;
  private fatal: LookupFailure | null = null;
  private mayPause = true;
  private writes: ChunkWrites | null = null;

  constructor(
    private readonly deps: ChunkLookupDeps,
    private readonly data: ChunkJobData,
    private readonly keys: BatchKeys,
    private readonly resumes: number,
    private readonly attempt: ChunkAttempt,
  ) {
    this.log = deps.logger.child({ batch: data.batchId, chunk: data.chunk });
    // The gate paces on the wall clock: the batch's own clock may be moved (tests of days of history).
    this.gate = new RateGate(deps.redis, rateKey(deps.prefix), data.ratePerSecond, deps.pace);
    this.provider = deps.provider(data.provider);
    this.pauseReadAt = Date.now();
  }

  async run(): Promise<ChunkVerdict> {
    const { redis, quota } = this.deps;
    const [{ open, cached }, rounds, spend] = await Promise.all([
      this.openNumbers(),
      redis.hget(this.keys.meta, `rateLimited:${this.data.chunk}`),
      redis.hgetall(this.keys.spend),
    ]);
    this.mayPause = Number(rounds ?? 0) < MAX_RATE_LIMIT_ROUNDS;
    const { counter } = quota.counter(this.deps.prefix, this.data.provider);
    const writes = new ChunkWrites(redis, this.keys, spendRule(spend, counter.limit));
    this.writes = writes;
    try {
      await Promise.all(open.map((number) => this.deps.unsaved(() => this.lookUp(number))));
    } finally {
      // Requests counted but not answered (retries, pauses) are spent all the same.
      await writes.flush();
    }
    return this.verdict(open.length, cached);
  }

  /**
   * The chunk's numbers still without an answer, less those the history answers (`--max-age`), whose cached
   * answers are saved now. Also reads each open number's previous state, for the answers to come.
   */
  private async openNumbers(): Promise<{ open: string[]; cached: number }> {
    const { redis, clock } = this.deps;
    const { numbers } = this.data;
    const known = numbers.length > 0 ? await redis.hmget(this.keys.answers, ...numbers) : [];
    const unanswered = numbers.filter((_, i) => known[i] === null);
    this.previous = await new StateStore(redis, this.data.history, this.deps.stateSecret).read(
      unanswered,
      clock(),
    );
    const fresh = new Map<string, NumberState>();
    for (const n of unanswered) {
      const state = this.previous.get(n);
      if (state !== undefined && isFresh(state, this.data.provider, clock(), this.data.maxAgeMs))
        fresh.set(n, state);
    }
    if (fresh.size > 0) {
      const entries = [...fresh].map(([n, state]) => [n, encodeAnswer(cachedAnswer(state))]);
      await redis.hset(this.keys.answers, Object.fromEntries(entries) as Record<string, string>);
    }
    return { open: unanswered.filter((n) => !fresh.has(n)), cached: fresh.size };
  }

  /** One number: asked and settled in one of the process's lookup slots, its answer then written outside it. */
  private async lookUp(number: string): Promise<void> {
    const write = await this.deps.limit(async () => {
      const outcome = await this.askInPlace(number);
      if (outcome === null) return void this.retryLater++;
      // Settled in the slot, so the next number sees a pause or a refused credential this outcome brings.
      return this.settle(number, outcome);
    });
    // The slot is free for the next number while this answer waits for its write.
    await write?.written;
  }

  /** One number asked, 429s waited out in place a few times; null: not asked now, left for later. */
  private async askInPlace(number: string): Promise<LookupOutcome | null> {
    if (this.fatal !== null || this.pauseMs !== null || this.deps.stopping.aborted || (await this.isPaused()))
      return null;
    let outcome = await this.ask(number);
    if (outcome === null) return null;
    // A 429: everyone waits out Retry-After at the shared gate (under --rate, only once 429s keep coming: a lone
    // one costs just this number its next slot), then this number is asked again in place; handing the chunk
    // back to the queue would cost far more than the pause itself.
    for (
      let round = 0;
      round < IN_PLACE_429_RETRIES && isRateLimited(outcome) && !this.deps.stopping.aborted;
      round++
    ) {
      if (await this.gate.pause(retryAfter(outcome))) this.pausedInPlace++;
      outcome = await this.ask(number);
      if (outcome === null) return null;
    }
    return outcome;
  }

  /**
   * One call through the budget and the rate gate (every upstream request of the lookup is reserved, then
   * paced), counted by the breaker. Null when the budget had no room for one of its requests: the batch is
   * paused and the number stays open.
   */
  private async ask(number: string): Promise<LookupOutcome | null> {
    let result: LookupOutcome;
    try {
      result = await this.provider.lookup(asE164(number), { beforeRequest: (kind) => this.before(kind) });
    } catch (error) {
      if (error instanceof QuotaReached) await this.pauseForQuota(error);
      else if (error instanceof BudgetReached) await this.pauseForBudget(error.reason);
      else throw error;
      return null;
    }
    const call = classifyCall(result);
    if (call.kind === 'uncounted') return result;
    const settings = this.data.breaker ?? DEFAULT_BREAKER;
    const trip = this.deps.breaker.record(this.data.batchId, this.resumes, settings, windowEntry(call));
    if (trip !== null && !this.pausedHere) await this.pauseForErrors(trip);
    return result;
  }

  /**
   * Before each upstream request: room in the batch's budget and in the provider's daily quota (reserved for
   * everyone at once), then its slot.
   */
  private async before(kind: string): Promise<SendWindow | undefined> {
    const { provider } = this.data;
    const { counter, day } = this.deps.quota.counter(this.deps.prefix, provider);
    if (this.writes?.counts(kind, counter) === true) return this.gate.acquire();
    const reservation = await reserveRequest(this.deps.redis, this.keys.spend, counter, kind);
    if (!reservation.ok && reservation.by === 'quota')
      throw this.deps.quota.reached(provider, reservation.spent, reservation.limit, day);
    if (!reservation.ok) {
      const [unit, currency] = await this.deps.redis.hmget(this.keys.spend, 'unit', 'currency');
      const money = unit === 'money';
      throw new BudgetReached(
        budgetReason(money ? 'money' : 'requests', reservation.spent, reservation.limit, currency ?? ''),
      );
    }
    return this.gate.acquire();
  }

  /** The budget has no room for another request: the batch pauses for everyone until resumed with more. */
  private async pauseForBudget(reasonText: string): Promise<void> {
    if (this.pausedHere) return;
    this.pausedHere = true;
    const at = new Date(this.deps.clock()).toISOString();
    // The reason as is: `reachscan resume <id> --budget <more>` is the way on, as the docs and the CLI say.
    const reason = reasonText;
    if (await pauseBatch(this.deps.redis, this.keys, { reason, cause: 'budget', resumes: this.resumes, at }))
      this.log.warn({ reason: reasonText }, 'batch paused: budget reached');
  }

  /**
   * The provider's daily quota is used up: the batch pauses for everyone until the quota's reset, when the first
   * of its chunks to run again lifts the pause.
   */
  private async pauseForQuota(reached: QuotaReached): Promise<void> {
    if (this.pausedHere) return;
    this.pausedHere = true;
    const at = new Date(this.deps.clock()).toISOString();
    const { reason, resetsAt } = reached;
    const pause = { reason, cause: 'quota', resumes: this.resumes, at, until: resetsAt } as const;
    if (await pauseBatch(this.deps.redis, this.keys, pause)) {
      this.pausedUntil = resetsAt;
      this.log.warn(
        { reason, resetsAt: new Date(resetsAt).toISOString() },
        'batch paused: daily quota reached',
      );
      await this.sayPaused(reason);
    } else {
      // Paused already, by another chunk or for another reason: that pause's end is the one to wait for. Not
      // paused (resumed since this chunk started): the quota is still used up, so its reset all the same.
      const control = await readControl(this.deps.redis, this.keys);
      this.pausedUntil = control.paused ? control.until : resetsAt;
    }
  }

  /** The breaker tripped: the batch pauses for everyone, until `reachscan resume`. */
  private async pauseForErrors(trip: Trip): Promise<void> {
    this.pausedHere = true;
    const at = new Date(this.deps.clock()).toISOString();
    const reason = pauseReason(trip, this.data.batchId);
    const cause = trip.setup !== undefined ? 'setup' : 'errors';
    if (await pauseBatch(this.deps.redis, this.keys, { reason, cause, resumes: this.resumes, at })) {
      this.log.warn(
        { failed: trip.failed, calls: trip.calls, mostly: trip.mostly, reason },
        'batch paused: too many carrier calls fail',
      );
      await this.sayPaused(reason);
    }
  }

  /**
   * The operator refuses how the batch asks (setup) or its quota is used up: the batch pauses for everyone,
   * with the provider's reason, until `reachscan resume`; the number stays open for after the resume.
   */
  private async pauseFor(request: PauseRequest): Promise<void> {
    if (this.pausedHere) return;
    this.pausedHere = true;
    const at = new Date(this.deps.clock()).toISOString();
    const then =
      request.kind === 'quota'
        ? `once the quota is renewed, run reachscan resume ${this.data.batchId}`
        : `fix the cause, then run reachscan resume ${this.data.batchId}`;
    const reason = `${request.reason}; paused: ${then}`;
    const cause = request.kind === 'setup' ? 'setup' : 'errors';
    if (await pauseBatch(this.deps.redis, this.keys, { reason, cause, resumes: this.resumes, at })) {
      this.log.warn(
        { kind: request.kind, reason: request.reason },
        request.kind === 'quota'
          ? "batch paused: the carrier's quota is used up"
          : 'batch paused: the carrier refuses how the batch asks',
      );
      await this.sayPaused(reason);
    }
  }

  /** The batch's webhook hears of the pause this process made. */
  private async sayPaused(reason: string): Promise<void> {
    const context = { redis: this.deps.redis, prefix: this.deps.prefix };
    const pause = { batchId: this.data.batchId, reason, resumes: this.resumes };
    await sendPauseEvent(context, this.keys, pause, this.log);
  }

  private async isPaused(): Promise<boolean> {
    if (this.pausedHere) return true;
    if (Date.now() - this.pauseReadAt >= PAUSE_READ_EVERY_MS) {
      this.pauseReadAt = Date.now();
      const [control, budgeted] = await Promise.all([
        readControl(this.deps.redis, this.keys),
        this.writes?.counting() === true ? this.deps.redis.hexists(this.keys.spend, 'limit') : 0,
      ]);
      this.pausedHere = control.paused;
      this.pausedUntil = control.until;
      // A budget given to the running batch (`resume --budget`) binds this chunk's next requests too.
      if (budgeted === 1) this.writes?.reserveFromNow();
    }
    return this.pausedHere;
  }

  /** Decides what a number's outcome means: its final answer (saved), a retry later, a pause, or the end. */
  private async settle(number: string, outcome: LookupOutcome): Promise<AnswerWrite | undefined> {
    // Paused: a failure (a refusal too) is kept open for after the resume, not written down as the row's answer.
    const call = classifyCall(outcome);
    if (this.pausedHere && countsAsFailure(call)) return void this.retryLater++;
    const { lastAttempt } = this.attempt;
    if (outcome.kind === 'failed') {
      const { failure } = outcome;
      if (failure.retry === 'fatal') return void (this.fatal ??= failure);
      if (failure.pause !== undefined) {
        await this.pauseFor(failure.pause);
        return void this.retryLater++;
      }
      if (failure.retry === 'rate-limited' && this.mayPause) {
        const wait = retryAfter(outcome);
        this.pauseMs = Math.max(this.pauseMs ?? 0, wait);
        await this.gate.pause(wait);
        return void this.retryLater++;
      }
      if ((failure.retry === 'retryable' || failure.retry === 'rate-limited') && !lastAttempt)
        return void this.retryLater++;
    } else if (outcome.transient && !lastAttempt) {
      return void this.retryLater++;
    }
    return this.save(number, outcome, call.kind === 'setup');
  }

  /**
   * Saves a number's final answer, written with the others of a few milliseconds (see {@link ChunkWrites}). A
   * refusal is also listed: it stays this row's answer unless the batch pauses for such refusals, and is then
   * asked again on resume.
   */
  private save(number: string, outcome: LookupOutcome, refusal: boolean): AnswerWrite {
    const checkedAt = this.deps.clock();
    const carrier = answerFromOutcome(outcome, new Date(checkedAt).toISOString());
    const simulated = this.provider.servedBySimulator?.() === true;
    const previous = this.previous.get(number) ?? null;
    const answer = encodeAnswer(liveAnswer(carrier, previous, this.data.provider, checkedAt, simulated));
    const written = (this.writes as ChunkWrites).save(number, answer, refusal ? this.data.chunk : null);
    this.saved++;
    return { written };
  }

  /** What the chunk's numbers add up to, with the batch's counters kept. */
  private async verdict(open: number, cached: number): Promise<ChunkVerdict> {
    const { redis } = this.deps;
    const { meta } = this.keys;
    if (this.pausedInPlace > 0) await redis.hincrby(meta, 'pauses', this.pausedInPlace);
    if (this.fatal !== null) {
      const failure: LookupFailure = this.fatal;
      await abortBatch(redis, this.keys, `the carrier refused our credentials (${failure.detail})`);
      this.log.error({ failure }, 'batch stopped: credentials refused');
      return { kind: 'fatal', reason: failure.detail };
    }
    if (this.pauseMs !== null) {
      const rounds = await redis.hincrby(meta, `rateLimited:${this.data.chunk}`, 1);
      await redis.hincrby(meta, 'pauses', 1);
      this.log.info({ pauseMs: this.pauseMs, rounds }, 'carrier rate limit: pausing the queue');
      return { kind: 'pause', ms: this.pauseMs };
    }
    if (this.pausedHere && this.retryLater > 0) {
      const handBack = handBackPaused(this.deps, this.keys, this.pausedUntil);
      this.log.info({ open: this.retryLater, delayMs: handBack.delayMs }, 'batch paused: chunk handed back');
      return handBack;
    }
    // Shutting down: the rest goes back without using an attempt; another worker takes it.
    if (this.deps.stopping.aborted && this.retryLater > 0) return { kind: 'hand-back', delayMs: 0 };
    if (this.retryLater > 0) {
      await redis.hincrby(meta, 'retries', 1);
      return { kind: 'retry', reason: `${this.retryLater} of ${open} numbers to retry` };
    }
    return { kind: 'done', answered: this.saved + cached };
  }
}

function isRateLimited(outcome: LookupOutcome): boolean {
  return outcome.kind === 'failed' && outcome.failure.retry === 'rate-limited';
}

function retryAfter(outcome: LookupOutcome): number {
  return (outcome.kind === 'failed' ? outcome.failure.retryAfterMs : undefined) ?? DEFAULT_PAUSE_MS;
}
