import type { QuotaSettings } from '../config/quota.js';
import type { Clock } from '../core/clock.js';
import type { ProviderName } from '../core/lookup-result.js';
import { localDateTime, quotaDay, timeLeft, type QuotaDay } from '../core/quota-day.js';
import { formatCount } from '../output/format.js';
import { quotaCounter } from '../queue/quota.js';
import type { QuotaCounter } from '../queue/spend.js';

/** Thrown by a lookup's before-request step when the provider's daily quota has no room for the request. */
export class QuotaReached extends Error {
  constructor(
    readonly reason: string,
    /** The quota's reset (epoch ms, the batch's clock): the pause lifts itself then. */
    readonly resetsAt: number,
  ) {
    super(reason);
    this.name = 'QuotaReached';
  }
}

/**
 * "daily quota reached: 5,000 of 5,000 requests for identity-insights today (resets at 00:00 Europe/Paris, in
 * 3 h 12 min)". The reset is the local time the next day starts: 00:00, or 01:00 where DST skips midnight.
 */
export function quotaReason(
  provider: ProviderName,
  used: number,
  limit: number,
  resetsAt: number,
  now: number,
  timeZone: string,
): string {
  const at = localDateTime(resetsAt, timeZone).slice(11);
  return (
    `daily quota reached: ${formatCount(used)} of ${formatCount(limit)} requests for ${provider} today ` +
    `(resets at ${at} ${timeZone}, in ${timeLeft(resetsAt - now)})`
  );
}

/**
 * A process's view of the daily quota (REACHSCAN_DAILY_QUOTA, REACHSCAN_QUOTA_TZ) on its clock: which day's
 * counter a request goes to. The day is worked out again only once it is over (or the clock went back).
 */
export class DailyQuota {
  private today: QuotaDay | null = null;
  private since = 0;

  constructor(
    readonly settings: QuotaSettings,
    private readonly clock: Clock,
  ) {}

  /** The counter a request sent now goes to, and the day it counts in. */
  counter(prefix: string, provider: ProviderName): { counter: QuotaCounter; day: QuotaDay } {
    const day = this.day(this.clock());
    return { counter: quotaCounter(prefix, provider, this.settings, day.day), day };
  }

  /** The refusal for a request the quota of `day` had no room for. */
  reached(provider: ProviderName, used: number, limit: number, day: QuotaDay): QuotaReached {
    const reason = quotaReason(provider, used, limit, day.resetsAt, this.clock(), this.settings.timeZone);
    return new QuotaReached(reason, day.resetsAt);
  }

  private day(now: number): QuotaDay {
    if (this.today === null || now < this.since || now >= this.today.resetsAt) {
      this.today = quotaDay(now, this.settings.timeZone);
      this.since = now;
    }
    return this.today;
  }
}
