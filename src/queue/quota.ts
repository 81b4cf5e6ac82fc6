import type { QuotaSettings } from '../config/quota.js';
import { PROVIDER_NAMES, type ProviderName } from '../core/lookup-result.js';
import { quotaDay, type QuotaDay } from '../core/quota-day.js';
import type { RedisClient } from './connection.js';
import { quotaKey } from './keys.js';
import { readCounters, type QuotaCounter } from './spend.js';

/**
 * How long a day's counter lives after its first request: through its own day (25 hours at most), and a day
 * more for whoever looks back; then Redis drops it.
 */
export const QUOTA_COUNTER_TTL_S = 2 * 86_400;

/** A provider's counter on a quota day, with the limit of REACHSCAN_DAILY_QUOTA (null: only counted). */
export function quotaCounter(
  prefix: string,
  provider: ProviderName,
  settings: QuotaSettings,
  day: string,
): QuotaCounter {
  return {
    key: quotaKey(prefix, provider, day),
    limit: settings.limits[provider] ?? null,
    ttlS: QUOTA_COUNTER_TTL_S,
  };
}

/** One provider's day so far. */
export interface ProviderQuota {
  readonly provider: ProviderName;
  /** Upstream requests sent today, every batch and worker together. */
  readonly used: number;
  /** Null without a quota for the provider. */
  readonly limit: number | null;
  readonly left: number | null;
}

/** The daily quota now: the day in the zone, when it resets, and every provider's use. */
export interface QuotaUsage extends QuotaDay {
  readonly timeZone: string;
  readonly providers: readonly ProviderQuota[];
}

/** Reads today's counters of every provider (one MGET). */
export async function readQuotaUsage(
  redis: RedisClient,
  prefix: string,
  settings: QuotaSettings,
  now: number,
): Promise<QuotaUsage> {
  const today = quotaDay(now, settings.timeZone);
  const counters = PROVIDER_NAMES.map((p) => quotaCounter(prefix, p, settings, today.day));
  const used = await readCounters(
    redis,
    counters.map((c) => c.key),
  );
  const providers = PROVIDER_NAMES.map((provider, i): ProviderQuota => {
    const limit = counters[i]?.limit ?? null;
    const count = used[i] ?? 0;
    return { provider, used: count, limit, left: limit === null ? null : Math.max(0, limit - count) };
  });
  return { ...today, timeZone: settings.timeZone, providers };
}
