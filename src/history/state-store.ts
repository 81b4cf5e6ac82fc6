import { masters, type RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { HistoryOptions } from '../core/settings.js';
import type { NumberState } from './number-state.js';
import { clearKeyPattern, clearNumberKey, numberKey, purposesKey, type StateSecret } from './number-key.js';

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

/** What one history write records beside the states: why the run asked, and when it wrote. */
export interface WriteStamp {
  /** The run's purpose (`--purpose`), kept in the entry as a short id into the purposes dictionary. */
  readonly purpose: string;
  readonly writtenAtMs: number;
}

/** Everything the history holds about one number (`reachscan history <number>`). */
export interface HeldAbout {
  readonly state: NumberState;
  readonly purpose: string | null;
  readonly writtenAt: number | null;
  /** When Redis forgets it, as ms since the epoch (null: no expiry set). */
  readonly expiresAt: number | null;
}

/**
 * The history: one Redis hash per number, shared by every worker on the Redis. Reads happen while a batch
 * asks (previous state, cache); writes only when a batch's results are final. Key names come from
 * {@link numberKey} alone: with a secret, an HMAC of the number, so Redis never holds the number itself.
 */
export class StateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: HistoryOptions,
    private readonly secret: StateSecret,
  ) {}

  key(number: string): string {
    return numberKey(this.options, this.secret, number);
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
      const state = decodeState(pairsToFields(replies[i] ?? []));
      if (state !== null && state.checkedAt >= oldest) states.set(n, state);
    });
    return states;
  }

  /**
   * Replaces the numbers' states (encoded by encodeState) and sets their expiry, atomically per call and never
   * back in time: a state checked earlier than the one stored (a late finalize of an older batch) is dropped.
   * Idempotent: writing the same entries again, as a resumed finalize does, leaves the same store. One script
   * call per group (the keys share one hash tag, so this holds on Redis Cluster too). Each entry records the
   * run's purpose (an id into the purposes dictionary) and when it was written (seconds after its check).
   */
  async write(
    entries: Iterable<readonly [string, Readonly<Record<string, string>>]>,
    stamp: WriteStamp,
  ): Promise<number> {
    const keys: string[] = [purposesKey(this.options)];
    const args: string[] = [String(Math.round(this.options.retentionDays * 86_400)), stamp.purpose];
    const written = Math.floor(stamp.writtenAtMs / 1000);
    for (const [number, fields] of entries) {
      const pairs = Object.entries(fields).flat();
      const after = Math.max(0, written - Number(fields.c ?? written));
      if (after > 0) pairs.push('w', String(after));
      keys.push(this.key(number));
      args.push(fields.c ?? '0', String(pairs.length), ...pairs);
    }
    if (keys.length === 1) return 0;
    return rememberStates(this.redis, keys, args);
  }

  /** What is held about one number, or null when nothing is. */
  async heldAbout(number: string): Promise<HeldAbout | null> {
    const key = this.key(number);
    const [fields, ttl] = await Promise.all([this.redis.hgetall(key), this.redis.pttl(key)]);
    const state = decodeState(fields);
    if (state === null) return null;
    const purpose =
      fields.u === undefined ? null : await this.redis.hget(purposesKey(this.options), `i:${fields.u}`);
    const after = fields.w === undefined ? 0 : Number(fields.w);
    return {
      state,
      purpose,
      writtenAt: state.checkedAt + after * 1000,
      expiresAt: ttl > 0 ? Date.now() + ttl : null,
    };
  }

  /**
   * Erases the numbers' histories (under their hashed name and, left from before a secret was set, their clear
   * one). Returns how many of them the history held.
   */
  async forget(numbers: readonly string[]): Promise<number> {
    let held = 0;
    for (let i = 0; i < numbers.length; i += 500) {
      const group = numbers.slice(i, i + 500);
      const keys = group.flatMap((n) => [this.key(n), clearNumberKey(this.options, n)]);
      held += await forgetStates(this.redis, keys);
    }
    return held;
  }

  /**
   * Renames every history key still named by its number to its HMAC name (expiry kept). Where both exist the
   * newer state stays. Idempotent: a second run finds nothing to move. Needs the secret.
   */
  async migrate(): Promise<{ moved: number; keptNewer: number }> {
    if (this.secret === null) throw new TypeError('migrating the history needs REACHSCAN_STATE_SECRET');
    const totals = { moved: 0, keptNewer: 0 };
    for (const node of masters(this.redis)) {
      const stream = node.scanStream({ match: clearKeyPattern(this.options), count: 500 });
      for await (const batch of stream as AsyncIterable<string[]>) {
        if (batch.length === 0) continue;
        const keys = batch.flatMap((clear) => [clear, this.key(clear.slice(this.options.prefix.length))]);
        const [moved, keptNewer] = await migrateStates(this.redis, keys);
        totals.moved += moved;
        totals.keptNewer += keptNewer;
      }
    }
    return totals;
  }
}

function pairsToFields(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let j = 0; j + 1 < flat.length; j += 2) fields[flat[j] as string] = flat[j + 1] as string;
  return fields;
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
 * KEYS: the purposes dictionary, then the states. ARGV: ttl seconds, the purpose, then per state key its
 * checked-at seconds, its count of field/value items, and those items. Returns how many were written (a state
 * older than the stored one is not). The purpose is stored once in the dictionary (`n:<name>` → id,
 * `i:<id>` → name) and each entry holds its id (`u`).
 */
const rememberStates = defineScript<number>({
  name: 'reachscanRememberStates',
  lua: `
local ttl = ARGV[1]
local names = KEYS[1]
local purpose = redis.call('HGET', names, 'n:' .. ARGV[2])
if not purpose then
  purpose = redis.call('HINCRBY', names, '#', 1)
  redis.call('HSET', names, 'n:' .. ARGV[2], purpose, 'i:' .. purpose, ARGV[2])
end
redis.call('EXPIRE', names, ttl)
local at = 3
local written = 0
for i = 2, #KEYS do
  local key = KEYS[i]
  local checked = tonumber(ARGV[at])
  local n = tonumber(ARGV[at + 1])
  local stored = redis.call('HGET', key, 'c')
  if not (stored and tonumber(stored) > checked) then
    redis.call('DEL', key)
    redis.call('HSET', key, 'u', purpose, unpack(ARGV, at + 2, at + 1 + n))
    redis.call('EXPIRE', key, ttl)
    written = written + 1
  end
  at = at + 2 + n
end
return written
`,
});

/** KEYS: pairs of names one number's history may have. Deletes them; returns how many numbers had one. */
const forgetStates = defineScript<number>({
  name: 'reachscanForgetStates',
  lua: `
local held = 0
for i = 1, #KEYS, 2 do
  local gone = redis.call('DEL', KEYS[i])
  if KEYS[i + 1] ~= KEYS[i] then gone = gone + redis.call('DEL', KEYS[i + 1]) end
  if gone > 0 then held = held + 1 end
end
return held
`,
});

/**
 * KEYS: pairs (clear name, hashed name). Moves each clear state to its hashed name, expiry kept, unless the
 * hashed one is newer (then the clear one is dropped). Returns {moved, kept newer}.
 */
const migrateStates = defineScript<[number, number]>({
  name: 'reachscanMigrateStates',
  lua: `
local moved, kept = 0, 0
for i = 1, #KEYS, 2 do
  local clear, hashed = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', clear) == 1 then
    local old = tonumber(redis.call('HGET', clear, 'c') or '0')
    local new = tonumber(redis.call('HGET', hashed, 'c') or '-1')
    if new >= old then
      redis.call('DEL', clear)
      kept = kept + 1
    else
      redis.call('RENAME', clear, hashed)
      moved = moved + 1
    end
  end
end
return {moved, kept}
`,
});
