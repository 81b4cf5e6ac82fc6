import { UsageError } from '../core/errors.js';
import type { Env } from './env.js';
import { MICROS, readPrices, type PriceTable } from './prices.js';

/** What one batch may spend: a number of upstream requests, or money at the prices of REACHSCAN_PRICES. */
export type Budget =
  | { readonly unit: 'requests'; readonly limit: number }
  | { readonly unit: 'money'; readonly limit: number; readonly currency: string };

const REQUESTS = /^\d+$/;
const MONEY = /^(\d+(?:\.\d+)?)\s*([A-Za-z]{3})$/;

/**
 * `--budget 500` (requests) or `--budget 25EUR` (money; `25.50 EUR` too). Money is kept in millionths. A
 * UsageError names the flag and the reason.
 */
export function parseBudget(text: string, flag = '--budget'): Budget {
  const trimmed = text.trim();
  if (REQUESTS.test(trimmed)) {
    const limit = Number(trimmed);
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new UsageError(`${flag} must be 1 request or more (got "${text}")`);
    return { unit: 'requests', limit };
  }
  const money = MONEY.exec(trimmed);
  if (money === null)
    throw new UsageError(
      `${flag} must be a number of requests (500) or an amount with its currency (25EUR), got "${text}"`,
    );
  const limit = Math.round(Number(money[1]) * MICROS);
  if (limit <= 0) throw new UsageError(`${flag} must be more than 0 (got "${text}")`);
  return { unit: 'money', limit, currency: (money[2] as string).toUpperCase() };
}

/** A money budget needs prices in its currency: the one-line reason when it has none, else null. */
export function budgetProblem(budget: Budget, prices: PriceTable | null, flag = '--budget'): string | null {
  if (budget.unit === 'requests') return null;
  if (prices === null) return `${flag} in money needs REACHSCAN_PRICES (a price per request)`;
  if (prices.currency !== budget.currency)
    return `${flag} is in ${budget.currency} but REACHSCAN_PRICES is in ${prices.currency}`;
  return null;
}

/**
 * A batch's budget (from `--budget`, the API's `budget`, a job file's `budget`) and the prices of
 * REACHSCAN_PRICES, checked together: a UsageError or ConfigError with one line when they do not fit.
 */
export function spendSettings(
  budgetText: string | undefined,
  env: Env,
  flag = '--budget',
): { budget?: Budget; prices: PriceTable | null } {
  const prices = readPrices(env);
  if (budgetText === undefined) return { prices };
  const budget = parseBudget(budgetText, flag);
  const problem = budgetProblem(budget, prices, flag);
  if (problem !== null) throw new UsageError(problem);
  return { budget, prices };
}
