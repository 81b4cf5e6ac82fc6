import { ReachscanError } from '../core/errors.js';
import type { HistoryOptions } from '../core/settings.js';
import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';
import { bucketCount, purposesKey } from './number-key.js';

/**
 * The history is laid out in another bucket count than this process is configured with, or a move between
 * layouts (`reachscan history migrate`) is under way or was cut short. Reading on would miss states, writing
 * on would split them: the operator must migrate, or configure the count Redis holds.
 */
export class HistoryLayoutError extends ReachscanError {
  constructor(message: string) {
    super('HISTORY_LAYOUT', message);
  }
}

/**
 * The key that records the history's layout, beside the run logs under the plain prefix: a hash with
 * `buckets` (the count the numbers' keys are spread over) and, while `history migrate` moves them,
 * `migrating` (the count they are moving to). Absent: a history from before buckets (single slot), or none yet.
 */
export function layoutKey(history: Pick<HistoryOptions, 'prefix'>): string {
  return `${history.prefix}layout`;
}

/**
 * Checks that the history in Redis is laid out as `history` says, and records the layout when nothing is
 * recorded yet and `record` is set (a first write). A history with no record but the single-slot purposes
 * dictionary predates buckets: it is laid out in 1. Throws {@link HistoryLayoutError} otherwise.
 */
export async function checkLayout(
  redis: RedisClient,
  history: HistoryOptions,
  record: boolean,
): Promise<void> {
  const wanted = bucketCount(history);
  const [held, migrating] = await historyLayout(
    redis,
    [layoutKey(history), purposesKey(history.prefix)],
    [wanted, record ? 1 : 0],
  );
  if (migrating !== '')
    throw new HistoryLayoutError(
      `the history at ${history.prefix} is being moved into ${migrating} buckets by "reachscan history migrate", or that move was cut short: let it finish, or run it again`,
    );
  if (Number(held) !== wanted)
    throw new HistoryLayoutError(
      `REACHSCAN_STATE_BUCKETS is ${wanted} but the history at ${history.prefix} is kept in ${layoutName(Number(held))}: ` +
        `run "reachscan history migrate" with REACHSCAN_STATE_BUCKETS=${wanted} (workers stopped) to move it, or set REACHSCAN_STATE_BUCKETS=${held}`,
    );
}

function layoutName(count: number): string {
  return count === 1 ? '1 bucket (one slot, the layout from before buckets)' : `${count} buckets`;
}

/** Marks a move into `count` buckets as under way: every other reader and writer stops until it ends. */
export async function startMove(redis: RedisClient, history: HistoryOptions, count: number): Promise<void> {
  await redis.hset(layoutKey(history), 'migrating', String(count));
}

/** Records the layout a finished move left, and lets readers and writers on. */
export async function endMove(redis: RedisClient, history: HistoryOptions, count: number): Promise<void> {
  await redis
    .multi()
    .hset(layoutKey(history), 'buckets', String(count))
    .hdel(layoutKey(history), 'migrating')
    .exec();
}

/**
 * KEYS: the layout record, the single-slot purposes dictionary. ARGV: the configured count, 1 to record it
 * when nothing is. Returns {count held, count being moved to or ''}.
 */
const historyLayout = defineScript<[string, string]>({
  name: 'reachscanHistoryLayout',
  lua: `
local held = redis.call('HGET', KEYS[1], 'buckets')
local moving = redis.call('HGET', KEYS[1], 'migrating')
if moving then return {held or '1', moving} end
if held then return {held, ''} end
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return {'1', ''} end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'buckets', ARGV[1]) end
return {ARGV[1], ''}
`,
});
