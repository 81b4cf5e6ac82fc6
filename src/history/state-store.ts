import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { HistoryOptions } from '../core/settings.js';
import type { NumberState } from './number-state.js';

const DAY_MS = 86_400_000;

/** Provider names are stored as two letters; the hash holds one per number, so every byte counts. */
const PROVIDER_CODE: Record<ProviderName, string> = {
  'identity-insights': 'ii',
  'device-status': 'ds',
  camara: 'cm',
};
const PROVIDER_OF = new Map(
  Object.entries(PROVIDER_CODE).map(([name, code]) => [code, name as ProviderName]),
);

/**
 * A state as the hash fields Redis keeps: one- or two-letter names, times in whole seconds, booleans as 1/0,
 * empty values left out, and the "last known" fields only when they differ from the latest answer. Small
 * hashes stay in Redis's listpack encoding.
 */
export function encodeState(state: NumberState): Record<string, string> {
  const fields: Record<string, string> = {
    c: seconds(state.checkedAt),
    p: PROVIDER_CODE[state.provider],
  };
  const put = (name: string, value: string) => {
    if (value !== '') fields[name] = value;
  };
  const flag = (value: boolean | null) => (value === null ? '' : value ? '1' : '0');
  put('r', flag(state.reachable));
  put('k', state.connectivity);
  put('t', state.lastStatusAt === null ? '' : seconds(state.lastStatusAt));
  put('m', flag(state.roaming));
  put('mc', state.roamingCountries);
  put('mm', state.roamingMcc);
  put('rs', state.reachabilityStatus);
  // Usually the same code for both insights: kept once (and kept even when empty, if they differ).
  if (state.roamingStatus !== state.reachabilityStatus) fields.ms = state.roamingStatus;
  put('sr', state.lastSeenReachableAt === null ? '' : seconds(state.lastSeenReachableAt));
  put('su', state.unreachableSince === null ? '' : seconds(state.unreachableSince));
  if (state.knownReachable !== state.reachable) put('kr', flag(state.knownReachable));
  if (state.knownRoaming !== state.roaming) put('km', flag(state.knownRoaming));
  // Kept even when empty: its presence says "differs from mc".
  if (state.knownRoamingCountries !== state.roamingCountries) fields.kc = state.knownRoamingCountries;
  if (state.simulated) fields.s = '1';
  return fields;
}

/** The state a hash holds, or null when there is none (or it is not one of ours). */
export function decodeState(fields: Readonly<Record<string, string>>): NumberState | null {
  const provider = PROVIDER_OF.get(fields.p ?? '');
  const checkedAt = ms(fields.c);
  if (provider === undefined || checkedAt === null) return null;
  const flag = (value: string | undefined) => (value === '1' ? true : value === '0' ? false : null);
  const reachable = flag(fields.r);
  const roaming = flag(fields.m);
  const roamingCountries = fields.mc ?? '';
  return {
    checkedAt,
    provider,
    reachable,
    connectivity: fields.k ?? '',
    lastStatusAt: ms(fields.t),
    roaming,
    roamingCountries,
    roamingMcc: fields.mm ?? '',
    reachabilityStatus: fields.rs ?? '',
    roamingStatus: fields.ms ?? fields.rs ?? '',
    lastSeenReachableAt: ms(fields.sr),
    unreachableSince: ms(fields.su),
    knownReachable: 'kr' in fields ? flag(fields.kr) : reachable,
    knownRoaming: 'km' in fields ? flag(fields.km) : roaming,
    knownRoamingCountries: 'kc' in fields ? (fields.kc ?? '') : roamingCountries,
    simulated: fields.s === '1',
  };
}

function seconds(msSinceEpoch: number): string {
  return String(Math.floor(msSinceEpoch / 1000));
}

function ms(value: string | undefined): number | null {
  if (value === undefined || value === '' || !/^\d+$/.test(value)) return null;
  return Number(value) * 1000;
}

/**
 * The history: one Redis hash per number, shared by every worker on the Redis. Reads happen while a batch
 * asks (previous state, cache); writes only when a batch's results are final.
 */
export class StateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: HistoryOptions,
  ) {}

  key(number: string): string {
    return `${this.options.prefix}${number}`;
  }

  /** States of the given numbers as of `nowMs`; numbers without one (or past retention) are left out. */
  async read(numbers: readonly string[], nowMs: number): Promise<Map<string, NumberState>> {
    const states = new Map<string, NumberState>();
    if (numbers.length === 0) return states;
    // One script call for the whole group instead of one HGETALL per number: same keys, one round trip.
    const replies = await readStates(
      this.redis,
      numbers.map((n) => this.key(n)),
    );
    const oldest = nowMs - this.options.retentionDays * DAY_MS;
    numbers.forEach((n, i) => {
      const flat = replies[i] ?? [];
      const fields: Record<string, string> = {};
      for (let j = 0; j + 1 < flat.length; j += 2) fields[flat[j] as string] = flat[j + 1] as string;
      const state = decodeState(fields);
      if (state !== null && state.checkedAt >= oldest) states.set(n, state);
    });
    return states;
  }

  /**
   * Replaces the numbers' states (encoded by encodeState) and sets their expiry, atomically per call and never
   * back in time: a state checked earlier than the one stored (a late finalize of an older batch) is dropped.
   * Idempotent: writing the same entries again, as a resumed finalize does, leaves the same store. One script
   * call per group (the keys share one hash tag, so this holds on Redis Cluster too).
   */
  async write(entries: Iterable<readonly [string, Readonly<Record<string, string>>]>): Promise<number> {
    const keys: string[] = [];
    const args: string[] = [String(Math.round(this.options.retentionDays * 86_400))];
    for (const [number, fields] of entries) {
      const pairs = Object.entries(fields).flat();
      keys.push(this.key(number));
      args.push(fields.c ?? '0', String(pairs.length), ...pairs);
    }
    if (keys.length === 0) return 0;
    return rememberStates(this.redis, keys, args);
  }
}

/** KEYS: the states. Returns each one's HGETALL (empty when absent), in order. */
const readStates = defineScript<string[][]>({
  name: 'reachscanReadStates',
  lua: `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
`,
});

/**
 * KEYS: the states. ARGV: ttl seconds, then per key its checked-at seconds, its count of field/value items,
 * and those items. Returns how many were written (a state older than the stored one is not).
 * Keys are given per call: a group has as many keys as it has numbers.
 */
const rememberStates = defineScript<number>({
  name: 'reachscanRememberStates',
  lua: `
local ttl = ARGV[1]
local at = 2
local written = 0
for i, key in ipairs(KEYS) do
  local checked = tonumber(ARGV[at])
  local n = tonumber(ARGV[at + 1])
  local stored = redis.call('HGET', key, 'c')
  if not (stored and tonumber(stored) > checked) then
    redis.call('DEL', key)
    redis.call('HSET', key, unpack(ARGV, at + 2, at + 1 + n))
    redis.call('EXPIRE', key, ttl)
    written = written + 1
  end
  at = at + 2 + n
end
return written
`,
});
