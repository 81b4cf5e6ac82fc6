import { setTimeout as sleep } from 'node:timers/promises';
import type { E164 } from '../core/e164.js';
import type { LookupOutcome } from '../core/lookup-result.js';
import type { ReachabilityProvider } from './provider.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** First backoff, in milliseconds; doubles each attempt, with full jitter. */
  readonly baseDelayMs: number;
  /** Upper bound of one wait, in milliseconds. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Exponential backoff with full jitter ("AWS full jitter"): spreads retries so they don't arrive together. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Looks a number up, retrying what the classification says is worth it: retryable failures and transient
 * insight codes back off exponentially; rate-limited ones wait what the carrier asked (or back off when it
 * didn't say). Fatal and permanent failures return at once. The queue uses BullMQ's own retries instead; this
 * serves single lookups from the command line and direct baselines.
 */
export async function lookupWithRetries(
  provider: ReachabilityProvider,
  phoneNumber: E164,
  policy: RetryPolicy = DEFAULT_RETRY,
  signal?: AbortSignal,
): Promise<LookupOutcome> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await provider.lookup(phoneNumber, signal ? { signal } : {});
    const retry =
      outcome.kind === 'answered'
        ? outcome.transient
        : outcome.failure.retry === 'retryable' || outcome.failure.retry === 'rate-limited';
    if (!retry || attempt >= policy.attempts) return outcome;
    const asked = outcome.kind === 'failed' ? outcome.failure.retryAfterMs : undefined;
    await sleep(asked ?? backoffMs(attempt, policy), undefined, signal ? { signal } : {});
  }
}
