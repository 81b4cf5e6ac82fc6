import { setTimeout as sleep } from 'node:timers/promises';
import { takeNewFiles } from './inbox-pass.js';
import { adoptLeftovers } from './leftovers.js';
import { createWatchContext, redisOutcome, type WatchContext, type WatcherOptions } from './watch-context.js';

export type { WatcherOptions } from './watch-context.js';

/**
 * The watched folder: polls the inbox, takes complete files one at a time (atomic rename into processing/,
 * under a content lock in Redis), scans them, and files them under done/ or failed/. Files left in
 * processing/ by a watcher that died are adopted once their lock expires. Returns when `stop` aborts; a file
 * being scanned then stays in processing/ and is resumed by the next watcher.
 */
export async function runWatcher(options: WatcherOptions, stop: AbortSignal): Promise<void> {
  const context = createWatchContext(options, stop);
  while (!stop.aborted) {
    await pollOnce(context);
    await sleep(options.pollMs, undefined, { signal: stop }).catch(() => undefined);
  }
}

/** One poll: leftovers in processing/ first, then new files in the inbox; a failure waits for the next poll. */
async function pollOnce(context: WatchContext): Promise<void> {
  try {
    if (context.memory.redisDown)
      await context.options.redis.ping().then(
        () => redisOutcome(context),
        (error: unknown) => redisOutcome(context, error),
      );
    await adoptLeftovers(context);
    await takeNewFiles(context);
  } catch (error) {
    context.options.say(`watch cycle failed (${(error as Error).message}); trying again`);
  }
}
