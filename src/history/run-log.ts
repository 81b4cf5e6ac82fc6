import type { HistoryOptions } from '../core/settings.js';
import type { RedisClient } from '../queue/connection.js';
import { defineScript } from '../queue/scripts.js';

/** Runs kept per label: enough for a month of nightly runs. */
export const RUN_LOG_LENGTH = 30;

/**
 * The run log of one label: a Redis list beside the history, under the history's prefix and hash tag
 * (`{reachscan-state}:runs:<label>`), so simulated runs keep a log of their own as they keep a history of their
 * own, and a Cluster keeps it in the history's slot. Numbers' keys are E.164 (`+…`), so `runs:` cannot meet one.
 */
export function runLogKey(history: HistoryOptions, label: string): string {
  return `${history.prefix}runs:${label}`;
}

/**
 * The last {@link RUN_LOG_LENGTH} finished runs of each label, for the reports' trend. Each entry is the
 * caller's text (JSON) under a run id; the log expires with the history's retention after its last run.
 */
export class RunLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly history: HistoryOptions,
  ) {}

  /**
   * Records one run and returns the label's entries, oldest recorded first. Idempotent: a run recorded again
   * under the same id (a finalize step run again after a worker died) replaces its entry instead of adding one.
   */
  async record(label: string, runId: string, entry: string): Promise<string[]> {
    if (runId.includes('\n')) throw new TypeError('a run id holds no line break');
    const items = await recordRun(
      this.redis,
      [runLogKey(this.history, label)],
      [runId, entry, RUN_LOG_LENGTH, Math.round(this.history.retentionDays * 86_400)],
    );
    return items.map((item) => item.slice(item.indexOf('\n') + 1));
  }
}

/**
 * KEYS: the log. ARGV: run id, entry, length kept, ttl seconds. Items are `<run id>\n<entry>`: an id seen
 * before is replaced in place, a new one appended and the oldest trimmed. Returns the items, oldest first.
 */
const recordRun = defineScript<string[]>({
  name: 'reachscanRecordRun',
  lua: `
local key = KEYS[1]
local head = ARGV[1] .. '\\n'
local item = head .. ARGV[2]
local items = redis.call('LRANGE', key, 0, -1)
local found = false
for i, stored in ipairs(items) do
  if string.sub(stored, 1, #head) == head then
    redis.call('LSET', key, i - 1, item)
    found = true
    break
  end
end
if not found then
  redis.call('RPUSH', key, item)
  redis.call('LTRIM', key, -tonumber(ARGV[3]), -1)
end
redis.call('EXPIRE', key, ARGV[4])
return redis.call('LRANGE', key, 0, -1)
`,
});
