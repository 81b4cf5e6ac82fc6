import type { RedisClient } from './connection.js';
import { defineScript } from './scripts.js';

/** What the spend gate said about one request: sent (reserved), or refused with what is spent of what limit. */
export type Reservation =
  { readonly ok: true } | { readonly ok: false; readonly spent: number; readonly limit: number };

/**
 * Reserves one upstream request of a kind against a batch's spend hash, atomically for every worker: its cost
 * is 1 (a request budget) or the kind's price in millionths (a money budget). Refused, nothing changes, when
 * `spent + cost` would pass `limit`; a hash without a limit only counts. Counted too, for the reports: the
 * requests per kind (`n:<kind>`) and their price (`micros`).
 *
 * KEYS: spend hash. ARGV: kind. Returns {1} or {0, spent, limit}.
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
redis.call('HINCRBY', KEYS[1], 'spent', cost)
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], 'micros', price)
return {1}
`,
});

export async function reserveRequest(
  redis: RedisClient,
  spendKey: string,
  kind: string,
): Promise<Reservation> {
  const [ok, spent, limit] = await reserve(redis, [spendKey], [kind]);
  return ok === 1 ? { ok: true } : { ok: false, spent: Number(spent), limit: Number(limit) };
}
