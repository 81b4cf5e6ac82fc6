import type { RedisClient } from './connection.js';
import { defineScript } from './scripts.js';

/**
 * What the spend gate said about one request: sent (reserved), or refused by the batch's budget or by the
 * provider's daily quota, with what is spent (used) of what limit.
 */
export type Reservation =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly by: 'budget' | 'quota';
      readonly spent: number;
      readonly limit: number;
    };

/** The provider's counter of today's requests, shared by every batch, and its limit (null: only counted). */
export interface QuotaCounter {
  readonly key: string;
  readonly limit: number | null;
  /** The counter's lifetime from its first request, s: past the end of its day, whatever the zone. */
  readonly ttlS: number;
}

/**
 * Reserves one upstream request of a kind, atomically for every worker, against the batch's spend hash and
 * the provider's daily counter. Its cost to the budget is 1 (a request budget) or the kind's price in
 * millionths (a money budget). Refused, nothing changes, when `spent + cost` would pass the budget's limit, or
 * the day's count would pass the quota; a hash without a limit, or a quota without one, only counts. Counted
 * too, for the reports: the requests per kind (`n:<kind>`) and their price (`micros`).
 *
 * KEYS: spend hash, daily counter. ARGV: kind, quota limit ('' for none), counter TTL (s).
 * Returns {1}, {0, spent, limit} (the budget) or {2, used, limit} (the quota).
 */
const reserve = defineScript<number[]>({
  name: 'reachscanSpendReserve',
  lua: `
local price = tonumber(redis.call('HGET', KEYS[1], 'price:' .. ARGV[1]) or '0')
local cost = 1
if redis.call('HGET', KEYS[1], 'unit') == 'money' then cost = price end
local limit = redis.call('HGET', KEYS[1], 'limit')
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
if limit and spent + cost > tonumber(limit) then return {0, spent, tonumber(limit)} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[2] ~= '' and used + 1 > tonumber(ARGV[2]) then return {2, used, tonumber(ARGV[2])} end
redis.call('HINCRBY', KEYS[1], 'spent', cost)
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], 'micros', price)
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {1}
`,
});

export async function reserveRequest(
  redis: RedisClient,
  spendKey: string,
  quota: QuotaCounter,
  kind: string,
): Promise<Reservation> {
  const args = [kind, quota.limit ?? '', quota.ttlS];
  const [code, spent, limit] = await reserve(redis, [spendKey, quota.key], args);
  if (code === 1) return { ok: true };
  return { ok: false, by: code === 2 ? 'quota' : 'budget', spent: Number(spent), limit: Number(limit) };
}

/** Today's count of each counter key (0 for one never counted, or expired). */
export async function readCounters(redis: RedisClient, keys: readonly string[]): Promise<number[]> {
  if (keys.length === 0) return [];
  return (await redis.mget(...keys)).map((value) => Number(value ?? 0));
}
