import type { HistoryOptions } from '../core/settings.js';
import { masters, type RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import { endMove, startMove } from './layout.js';
import {
  bucketCount,
  historyKeyPattern,
  keyOfId,
  numberDigest,
  parseHistoryKey,
  purposesKey,
  type HistoryKey,
  type NumberKey,
  type StateSecret,
} from './number-key.js';

/** What `reachscan history migrate` did. */
export interface MigrationCounts {
  /**
   * Entries moved to their key in the configured layout (a number found under both its clear and its hashed
   * name has two entries: whichever is moved second is kept out, or replaces the first, by which is newer).
   */
  readonly moved: number;
  /** Of those, entries named by the number that now have their HMAC name. */
  readonly hashed: number;
  /** Entries whose new key already held a state as new or newer: the old key was removed. */
  readonly keptNewer: number;
  /** The bucket count the history is laid out in now. */
  readonly buckets: number;
}

/** One entry to move: where it is, where it goes, and whether it changes from clear to hashed. */
interface Move {
  readonly from: NumberKey;
  readonly to: NumberKey;
  readonly hashed: boolean;
}

/**
 * Moves every entry of the history into the layout `history` names: into its bucket of
 * `history.buckets` (from the single-slot layout or from another count), and, with a secret, from its clear
 * name to its HMAC name. Where the new key already holds a state as new or newer, that one stays and the old
 * key goes. Each entry is copied first and its old key deleted after, so a move cut short at any point is
 * finished by running it again; a second run finds nothing to move. Purposes dictionaries left in buckets of
 * the old layout are removed once all their entries moved. While it runs, the layout record says so, and
 * every reader and writer of this history stops with an error instead of reading half a layout.
 */
export async function migrateHistory(
  redis: RedisClient,
  history: HistoryOptions,
  secret: StateSecret,
): Promise<MigrationCounts> {
  const buckets = bucketCount(history);
  await startMove(redis, history, buckets);
  const totals = { moved: 0, hashed: 0, keptNewer: 0 };
  const oldDictionaries = new Set<string>();
  for (const node of masters(redis)) {
    const stream = node.scanStream({ match: historyKeyPattern(history.prefix), count: 500 });
    for await (const batch of stream as AsyncIterable<string[]>) {
      const found = batch.map((key) => parseHistoryKey(history.prefix, key));
      const moves: Move[] = [];
      batch.forEach((key, i) => {
        const what = found[i];
        if (what?.kind === 'purposes' && !inLayout(what, buckets)) oldDictionaries.add(key);
        if (what?.kind !== 'state') return;
        const id = secret !== null && what.id.startsWith('+') ? numberDigest(secret, what.id) : what.id;
        const to = keyOfId(history, id);
        if (to.key !== key) moves.push({ from: { key, bucket: what.bucket }, to, hashed: id !== what.id });
      });
      const done = await moveStates(redis, moves);
      totals.moved += done.moved;
      totals.hashed += done.hashed;
      totals.keptNewer += done.keptNewer;
    }
  }
  // Every entry has left the old buckets by now: their dictionaries refer to nothing.
  await Promise.all([...oldDictionaries].map((key) => redis.del(key)));
  await endMove(redis, history, buckets);
  return { ...totals, buckets };
}

/** Whether a purposes dictionary is one of the layout's own buckets. */
function inLayout(what: HistoryKey, buckets: number): boolean {
  return buckets === 1 ? what.index === null : what.index !== null && what.index < buckets;
}

/**
 * Moves one SCAN batch of entries: reads them per old bucket, writes them per new bucket, then deletes the old
 * keys per old bucket (a key is deleted only once its state is safe at the new one).
 */
async function moveStates(
  redis: RedisClient,
  moves: readonly Move[],
): Promise<{ moved: number; hashed: number; keptNewer: number }> {
  const counts = { moved: 0, hashed: 0, keptNewer: 0 };
  if (moves.length === 0) return counts;
  const taken = new Array<TakenState | null>(moves.length).fill(null);
  await forEachGroup(
    moves,
    (m) => m.from.bucket,
    async (bucket, group) => {
      const replies = await takeStates(redis, [
        purposesKey(bucket),
        ...group.map(({ item }) => item.from.key),
      ]);
      group.forEach(({ at }, j) => (taken[at] = asTaken(replies[j])));
    },
  );
  const present = moves.flatMap((move, at) => {
    const state = taken[at];
    return state === null || state === undefined ? [] : [{ move, state }];
  });
  await forEachGroup(
    present,
    (p) => p.move.to.bucket,
    async (bucket, group) => {
      const args = group.flatMap(({ item: { state } }) => [
        state.pttl,
        state.purpose,
        state.fields.c ?? '0',
        String(Object.keys(state.fields).length * 2),
        ...Object.entries(state.fields).flat(),
      ]);
      const written = await putStates(
        redis,
        [purposesKey(bucket), ...group.map(({ item }) => item.move.to.key)],
        args,
      );
      group.forEach(({ item }, j) => {
        if (written[j] === 1) {
          counts.moved += 1;
          if (item.move.hashed) counts.hashed += 1;
        } else counts.keptNewer += 1;
      });
    },
  );
  await forEachGroup(
    present,
    (p) => p.move.from.bucket,
    async (_bucket, group) => {
      await redis.del(...group.map(({ item }) => item.move.from.key));
    },
  );
  return counts;
}

/** An entry as read from its old key: its fields (purpose id left out), expiry, and purpose by name. */
interface TakenState {
  readonly fields: Record<string, string>;
  readonly pttl: number;
  readonly purpose: string;
}

function asTaken(reply: [string[], number, string] | undefined): TakenState | null {
  if (reply === undefined || reply[0].length === 0) return null;
  const fields: Record<string, string> = {};
  for (let j = 0; j + 1 < reply[0].length; j += 2) fields[reply[0][j] as string] = reply[0][j + 1] as string;
  delete fields.u;
  return { fields, pttl: reply[1], purpose: reply[2] };
}

/** Calls `call` once per group of items sharing a bucket, all at once (each group is one slot). */
async function forEachGroup<T>(
  items: readonly T[],
  bucketOf: (item: T) => string,
  call: (bucket: string, group: { item: T; at: number }[]) => Promise<void>,
): Promise<void> {
  const groups = new Map<string, { item: T; at: number }[]>();
  items.forEach((item, at) => {
    const bucket = bucketOf(item);
    const group = groups.get(bucket);
    if (group === undefined) groups.set(bucket, [{ item, at }]);
    else group.push({ item, at });
  });
  await Promise.all([...groups].map(([bucket, group]) => call(bucket, group)));
}

/**
 * KEYS: a bucket's purposes dictionary, then entries of that bucket. Returns per entry {HGETALL, PTTL, its
 * purpose's name or ''}; an absent entry gives an empty HGETALL.
 */
const takeStates = defineScript<[string[], number, string][]>({
  name: 'reachscanTakeStates',
  lua: `
local out = {}
for i = 2, #KEYS do
  local fields = redis.call('HGETALL', KEYS[i])
  local name = ''
  for j = 1, #fields, 2 do
    if fields[j] == 'u' then name = redis.call('HGET', KEYS[1], 'i:' .. fields[j + 1]) or '' end
  end
  out[i - 1] = {fields, redis.call('PTTL', KEYS[i]), name}
end
return out
`,
});

/**
 * KEYS: a bucket's purposes dictionary, then the new keys of entries moving into that bucket. ARGV per entry:
 * its expiry in ms (-1: none), its purpose's name ('' for none), checked-at seconds, the count of field/value
 * items, those items. Writes each entry unless its key holds a state as new or newer; the purpose gets this
 * bucket's id for it, and the dictionary lives at least as long as the entries written. Returns 1 (written)
 * or 0 (kept the newer) per entry.
 */
const putStates = defineScript<number[]>({
  name: 'reachscanPutStates',
  lua: `
local names = KEYS[1]
local fresh = redis.call('EXISTS', names) == 0
local longest = 0
local forever = false
local out = {}
local at = 1
for i = 2, #KEYS do
  local key = KEYS[i]
  local pttl = tonumber(ARGV[at])
  local purpose = ARGV[at + 1]
  local checked = tonumber(ARGV[at + 2])
  local n = tonumber(ARGV[at + 3])
  local stored = redis.call('HGET', key, 'c')
  if stored and tonumber(stored) >= checked then
    out[i - 1] = 0
  else
    redis.call('DEL', key)
    if n > 0 then redis.call('HSET', key, unpack(ARGV, at + 4, at + 3 + n)) end
    if purpose ~= '' then
      local id = redis.call('HGET', names, 'n:' .. purpose)
      if not id then
        id = redis.call('HINCRBY', names, '#', 1)
        redis.call('HSET', names, 'n:' .. purpose, id, 'i:' .. id, purpose)
      end
      redis.call('HSET', key, 'u', id)
    end
    if pttl > 0 then
      redis.call('PEXPIRE', key, pttl)
      if pttl > longest then longest = pttl end
    else
      forever = true
    end
    out[i - 1] = 1
  end
  at = at + 4 + n
end
if redis.call('EXISTS', names) == 1 then
  local left = redis.call('PTTL', names)
  if forever then redis.call('PERSIST', names)
  elseif longest > 0 and (fresh or (left > 0 and left < longest)) then redis.call('PEXPIRE', names, longest) end
end
return out
`,
});
