import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import type { ProviderName } from '../core/lookup-result.js';
import type { HistoryOptions } from '../core/settings.js';
import { checkLayout } from './layout.js';
import { migrateHistory, type MigrationCounts } from './migrate.js';
import type { NumberState } from './number-state.js';
import { clearNumberKey, numberKeyOf, purposesKey, type NumberKey, type StateSecret } from './number-key.js';

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
  /** The run's purpose (`--purpose`), kept in the entry as a short id into its bucket's purposes dictionary. */
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
 * {@link numberKeyOf} alone: with a secret, an HMAC of the number, so Redis never holds the number itself.
 * The keys are spread over hash-tag buckets (one slot each); every call here works bucket by bucket, one
 * script call per bucket a group touches, sent together (a cluster routes each to its master). Each call
 * first checks that Redis holds the history in the layout the options say ({@link checkLayout}).
 */
export class StateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: HistoryOptions,
    private readonly secret: StateSecret,
  ) {}

  key(number: string): string {
    return this.keyOf(number).key;
  }

  private keyOf(number: string): NumberKey {
    return numberKeyOf(this.options, this.secret, number);
  }

  /** States of the given numbers as of `nowMs`; numbers without one (or past retention) are left out. */
  async read(numbers: readonly string[], nowMs: number): Promise<Map<string, NumberState>> {
    const states = new Map<string, NumberState>();
    if (numbers.length === 0) return states;
    // The layout is checked alongside the reads (no round trip added); their replies count only if it holds.
    const [, replies] = await Promise.all([
      checkLayout(this.redis, this.options, false),
      perBucket(
        numbers.map((n) => this.keyOf(n)),
        (keys) => readStates(this.redis, keys),
      ),
    ]);
    const oldest = nowMs - this.options.retentionDays * DAY_MS;
    numbers.forEach((n, i) => {
      const state = decodeState(pairsToFields(replies[i] ?? []));
      if (state !== null && state.checkedAt >= oldest) states.set(n, state);
    });
    return states;
  }

  /**
   * Replaces the numbers' states (encoded by encodeState) and sets their expiry, atomically per bucket and never
   * back in time: a state checked earlier than the one stored (a late finalize of an older batch) is dropped.
   * Idempotent: writing the same entries again, as a resumed finalize does, leaves the same store. Each entry
   * records the run's purpose (an id into its bucket's purposes dictionary) and when it was written (seconds
   * after its check).
   */
  async write(
    entries: Iterable<readonly [string, Readonly<Record<string, string>>]>,
    stamp: WriteStamp,
  ): Promise<number> {
    const ttl = String(Math.round(this.options.retentionDays * 86_400));
    const written = Math.floor(stamp.writtenAtMs / 1000);
    const items: { key: string; bucket: string; args: string[] }[] = [];
    for (const [number, fields] of entries) {
      const pairs = Object.entries(fields).flat();
      const after = Math.max(0, written - Number(fields.c ?? written));
      if (after > 0) pairs.push('w', String(after));
      items.push({ ...this.keyOf(number), args: [fields.c ?? '0', String(pairs.length), ...pairs] });
    }
    if (items.length === 0) return 0;
    await checkLayout(this.redis, this.options, true);
    const counts = await perBucketCall(items, (bucket, group) =>
      rememberStates(
        this.redis,
        [purposesKey(bucket), ...group.map((item) => item.key)],
        [ttl, stamp.purpose, ...group.flatMap((item) => item.args)],
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** What is held about one number, or null when nothing is. */
  async heldAbout(number: string): Promise<HeldAbout | null> {
    await checkLayout(this.redis, this.options, false);
    const { key, bucket } = this.keyOf(number);
    const [fields, ttl] = await Promise.all([this.redis.hgetall(key), this.redis.pttl(key)]);
    const state = decodeState(fields);
    if (state === null) return null;
    const purpose =
      fields.u === undefined ? null : await this.redis.hget(purposesKey(bucket), `i:${fields.u}`);
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
   * one: each in its own bucket). Returns how many of them the history held.
   */
  async forget(numbers: readonly string[]): Promise<number> {
    await checkLayout(this.redis, this.options, false);
    let held = 0;
    for (let i = 0; i < numbers.length; i += 500) {
      const group = numbers.slice(i, i + 500);
      const names = group.flatMap((n) => [this.keyOf(n), clearNumberKey(this.options, n)]);
      const gone = await perBucket(names, (keys) => forgetStates(this.redis, keys));
      for (let j = 0; j < gone.length; j += 2) if (gone[j] === 1 || gone[j + 1] === 1) held += 1;
    }
    return held;
  }

  /** Moves the history into this store's layout and names (see {@link migrateHistory}). */
  migrate(): Promise<MigrationCounts> {
    return migrateHistory(this.redis, this.options, this.secret);
  }
}

/**
 * Calls `call` once per bucket with that bucket's keys (in one slot), all at once, and returns the replies in
 * the order of `names`. `call` answers one reply per key, in the order given.
 */
async function perBucket<R>(
  names: readonly NumberKey[],
  call: (keys: string[]) => Promise<R[]>,
): Promise<R[]> {
  const indexed = names.map((name, at) => ({ ...name, at }));
  const replies: R[] = new Array<R>(names.length);
  await perBucketCall(indexed, async (_bucket, group) => {
    const answers = await call(group.map((item) => item.key));
    group.forEach((item, j) => (replies[item.at] = answers[j] as R));
  });
  return replies;
}

/** Groups items by bucket and calls `call` for each group, all at once; the replies in bucket order. */
function perBucketCall<T extends { readonly bucket: string }, R>(
  items: readonly T[],
  call: (bucket: string, group: T[]) => Promise<R>,
): Promise<R[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.bucket);
    if (group === undefined) groups.set(item.bucket, [item]);
    else group.push(item);
  }
  return Promise.all([...groups].map(([bucket, group]) => call(bucket, group)));
}

function pairsToFields(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let j = 0; j + 1 < flat.length; j += 2) fields[flat[j] as string] = flat[j + 1] as string;
  return fields;
}

/** KEYS: the states (of one bucket). Returns each one's HGETALL (empty when absent), in order. */
const readStates = defineScript<string[][]>({
  name: 'reachscanReadStates',
  lua: `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
`,
});

/**
 * KEYS: the bucket's purposes dictionary, then its states. ARGV: ttl seconds, the purpose, then per state key
 * its checked-at seconds, its count of field/value items, and those items. Returns how many were written (a
 * state older than the stored one is not). The purpose is stored once in the dictionary (`n:<name>` → id,
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

/** KEYS: names a number's history may have (of one bucket). Deletes them; returns 1 per name that existed. */
const forgetStates = defineScript<number[]>({
  name: 'reachscanForgetStates',
  lua: `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('DEL', key) end
return out
`,
});
