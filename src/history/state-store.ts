import type { Redis } from 'ioredis';
import type { ProviderName } from '../core/lookup-result.js';
import type { NumberState } from './number-state.js';

/** How the history is kept: where (key prefix) and for how long. Chosen by whoever submits the batch. */
export interface HistoryOptions {
  /**
   * Key prefix of the per-number hashes, with a hash tag, e.g. `{reachscan-state}:`: every state key lands in
   * one Redis Cluster slot, so a pipeline of them is valid on a cluster.
   */
  readonly prefix: string;
  /** A number not checked for this long is forgotten (Redis expires its hash; reads ignore it already). */
  readonly retentionDays: number;
}

export const DEFAULT_RETENTION_DAYS = 400;
const DAY_MS = 86_400_000;

/** Provider names are stored as two letters; the hash holds one per number, so every byte counts. */
const PROVIDER_CODE: Record<ProviderName, string> = { 'identity-insights': 'ii', 'device-status': 'ds' };
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
    private readonly redis: Redis,
    private readonly options: HistoryOptions,
  ) {}

  key(number: string): string {
    return `${this.options.prefix}${number}`;
  }

  /** States of the given numbers as of `nowMs`; numbers without one (or past retention) are left out. */
  async read(numbers: readonly string[], nowMs: number): Promise<Map<string, NumberState>> {
    const states = new Map<string, NumberState>();
    if (numbers.length === 0) return states;
    const pipeline = this.redis.pipeline();
    for (const n of numbers) pipeline.hgetall(this.key(n));
    const replies = (await pipeline.exec()) ?? [];
    const oldest = nowMs - this.options.retentionDays * DAY_MS;
    numbers.forEach((n, i) => {
      const [error, value] = replies[i] ?? [null, null];
      if (error) throw error;
      const state = decodeState((value ?? {}) as Record<string, string>);
      if (state !== null && state.checkedAt >= oldest) states.set(n, state);
    });
    return states;
  }

  /**
   * Replaces the numbers' states (encoded by encodeState) and sets their expiry, each in one atomic step that
   * never goes back in time: a state checked earlier than the one stored (a late or resumed finalize of an
   * older batch) is dropped. Idempotent: writing the same entries again leaves the same store.
   */
  async write(entries: Iterable<readonly [string, Readonly<Record<string, string>>]>): Promise<number> {
    const redis = withRememberCommand(this.redis);
    const pipeline = redis.pipeline() as ReturnType<Redis['pipeline']> & RememberCommand<unknown>;
    let count = 0;
    const ttl = String(Math.round(this.options.retentionDays * 86_400));
    for (const [number, fields] of entries) {
      pipeline.reachscanRememberState(
        this.key(number),
        fields.c ?? '0',
        ttl,
        ...Object.entries(fields).flat(),
      );
      count++;
    }
    if (count > 0) {
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    }
    return count;
  }
}

interface RememberCommand<R> {
  reachscanRememberState(key: string, checkedAt: string, ttl: string, ...fieldsAndValues: string[]): R;
}

/** KEYS[1] the state; ARGV: checked-at seconds, ttl seconds, then field/value pairs. 1 written, 0 older. */
const REMEMBER_STATE_LUA = `
local stored = redis.call('HGET', KEYS[1], 'c')
if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`;

function withRememberCommand(redis: Redis): Redis & RememberCommand<Promise<number>> {
  const typed = redis as Redis & Partial<RememberCommand<Promise<number>>>;
  if (typeof typed.reachscanRememberState !== 'function') {
    redis.defineCommand('reachscanRememberState', { numberOfKeys: 1, lua: REMEMBER_STATE_LUA });
  }
  return redis as Redis & RememberCommand<Promise<number>>;
}
