import type { ReportCost } from '../output/report.js';
import type { Budget } from '../config/budget.js';
import { formatMoney, MICROS, type PriceTable } from '../config/prices.js';
import type { RedisClient } from '../queue/connection.js';
import type { BatchKeys } from '../queue/keys.js';
import type { ProviderName } from '../core/lookup-result.js';

/** Thrown by a lookup's before-request step when the batch's budget has no room for the request. */
export class BudgetReached extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'BudgetReached';
  }
}

/** "budget reached: 500 of 500 requests spent", "budget reached: 25.00 of 25.00 EUR spent". */
export function budgetReason(
  unit: 'requests' | 'money',
  spent: number,
  limit: number,
  currency: string,
): string {
  if (unit === 'requests') return `budget reached: ${spent} of ${limit} requests spent`;
  return `budget reached: ${amount(spent)} of ${formatMoney(limit, currency)} spent`;
}

/** An amount in millionths without its currency: 25.00, 0.001. */
function amount(micros: number): string {
  return formatMoney(micros, '').trim();
}

/**
 * Sets up a new batch's spend hash: its budget (none: only counting) and its provider's prices. Replaces any
 * left from an earlier run of the same id.
 */
export async function startSpending(
  redis: RedisClient,
  keys: BatchKeys,
  spending: { budget?: Budget | undefined; prices?: PriceTable | undefined; provider: ProviderName },
  ttlS: number,
): Promise<void> {
  const fields: Record<string, string | number> = { spent: 0, micros: 0 };
  const { budget, prices } = spending;
  if (budget !== undefined) {
    fields.unit = budget.unit;
    fields.limit = budget.limit;
  }
  if (prices !== undefined) {
    fields.currency = prices.currency;
    for (const [kind, micros] of Object.entries(prices.micros[spending.provider] ?? {}))
      fields[`price:${kind}`] = micros;
  }
  await redis.multi().del(keys.spend).hset(keys.spend, fields).expire(keys.spend, ttlS).exec();
}

/**
 * Raises (or sets) a batch's budget, for `reachscan resume --budget`. A money budget needs the batch to have
 * prices in the same currency; the one-line reason when not, else null.
 */
export async function setBudget(redis: RedisClient, keys: BatchKeys, budget: Budget): Promise<string | null> {
  if (budget.unit === 'money') {
    const currency = await redis.hget(keys.spend, 'currency');
    if (currency === null) return 'this batch has no prices (REACHSCAN_PRICES was not set when it started)';
    if (currency !== budget.currency)
      return `--budget is in ${budget.currency} but this batch's prices are in ${currency}`;
  }
  await redis.hset(keys.spend, { unit: budget.unit, limit: budget.limit });
  return null;
}

/** What a batch spent: requests per kind, their cost when it has prices, and its budget. */
export interface Spending {
  /** Upstream requests really sent, auth requests and retries included. */
  readonly requests: number;
  readonly byKind: Readonly<Record<string, number>>;
  /** The cost at the batch's prices, in the currency's units; null without prices. */
  readonly cost: number | null;
  readonly currency: string | null;
  readonly budget: string | null;
}

export async function readSpending(redis: RedisClient, keys: BatchKeys): Promise<Spending> {
  return spendingOf(await redis.hgetall(keys.spend));
}

/** What a batch spent so far while Redis keeps its spend (it runs, or ended less than a day ago); else null. */
export async function spendingSoFar(redis: RedisClient, keys: BatchKeys): Promise<Spending | null> {
  const h = await redis.hgetall(keys.spend);
  return Object.keys(h).length === 0 ? null : spendingOf(h);
}

function spendingOf(h: Readonly<Record<string, string>>): Spending {
  const byKind: Record<string, number> = {};
  for (const [field, value] of Object.entries(h))
    if (field.startsWith('n:')) byKind[field.slice(2)] = Number(value);
  const currency = h.currency ?? null;
  const limit = h.limit === undefined ? null : Number(h.limit);
  return {
    requests: Object.values(byKind).reduce((sum, n) => sum + n, 0),
    byKind,
    cost: currency === null ? null : Number(h.micros ?? 0) / MICROS,
    currency,
    budget:
      limit === null ? null : h.unit === 'money' ? formatMoney(limit, currency ?? '') : `${limit} requests`,
  };
}

/** The spending as report.json's `cost` says it (the cache hits are counted from the rows). */
export function reportCost(spending: Spending): Omit<ReportCost, 'cache_hits'> {
  return {
    requests: spending.requests,
    by_kind: spending.byKind,
    amount: spending.cost,
    currency: spending.currency,
    budget: spending.budget,
  };
}
