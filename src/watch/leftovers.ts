import { join } from 'node:path';
import { listFolder, type DirEntry } from './inbox.js';
import { forgetHashes, hashOf, stillThere, tryLock, work, type WatchContext } from './watch-context.js';

/** Files in processing/ nobody holds: left by a watcher that stopped or died, or waiting for a retry. */
export async function adoptLeftovers(context: WatchContext): Promise<void> {
  const { layout } = context.options;
  const { retries } = context.memory;
  const entries = await listFolder(layout.processing);
  const present = new Set(entries.map((e) => e.name));
  forgetHashes(context, layout.processing, present);
  for (const name of retries.keys()) if (!present.has(name)) retries.delete(name);
  for (const entry of entries) {
    if (context.stop.aborted || context.memory.redisDown) return;
    if (!entry.stats.isFile() || entry.name.startsWith('.')) continue;
    if ((retries.get(entry.name)?.notBefore ?? 0) > context.options.clock()) continue;
    await adopt(context, entry);
  }
}

/** Locks a leftover and works on it; a file another watcher holds, or that is gone, is left alone. */
async function adopt(context: WatchContext, entry: DirEntry): Promise<void> {
  const path = join(context.options.layout.processing, entry.name);
  let sha: string;
  try {
    sha = await hashOf(context, path, entry);
  } catch {
    return;
  }
  const lock = await tryLock(context, sha);
  if (lock === null || lock === 'unavailable') return;
  // Taken and finished by another watcher between the listing and the lock.
  if (!(await stillThere(path, entry.stats.ino))) {
    await lock.release();
    return;
  }
  await work(context, { stamped: entry.name, sha, lock, adopted: true });
}
