import { join } from 'node:path';
import { oneLine } from '../core/one-line.js';
import {
  freeStampedName,
  listFolder,
  moveEntry,
  narrowFileMode,
  refusalReason,
  writeNote,
  type DirEntry,
} from './inbox.js';
import { classifyName, errorNoteName, WORK_FOLDERS } from './names.js';
import { assessStability } from './stability.js';
import { forgetHashes, hashOf, stillThere, tryLock, work, type WatchContext } from './watch-context.js';

/** New files in the inbox: refuse what must not be taken, take what is complete. */
export async function takeNewFiles(context: WatchContext): Promise<void> {
  const { layout } = context.options;
  const { observations, told } = context.memory;
  const entries = await listInbox(context);
  if (entries === null) return;
  const present = new Set(entries.map((e) => e.name));
  for (const name of observations.keys()) if (!present.has(name)) observations.delete(name);
  forgetHashes(context, layout.inbox, present);
  for (const name of told) if (!present.has(name)) told.delete(name);
  // Oldest first, so a steady stream of new files cannot starve an old one.
  entries.sort((a, b) => a.stats.mtimeMs - b.stats.mtimeMs || a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (context.stop.aborted) return;
    await considerEntry(context, entry);
  }
}

/** The inbox's entries, or null when it cannot be read (said once until it can be again). */
async function listInbox(context: WatchContext): Promise<DirEntry[] | null> {
  const { memory } = context;
  const { layout, say } = context.options;
  try {
    const entries = await listFolder(layout.inbox);
    if (memory.inboxUnreadable) say('the inbox can be read again');
    memory.inboxUnreadable = false;
    return entries;
  } catch (error) {
    if (!memory.inboxUnreadable) say(`cannot read the inbox (${(error as Error).message}); trying again`);
    memory.inboxUnreadable = true;
    return null;
  }
}

/** One entry of the inbox: ignored, refused, still settling, or complete and taken. */
async function considerEntry(context: WatchContext, entry: DirEntry): Promise<void> {
  const { layout, say } = context.options;
  const { observations, told } = context.memory;
  if ((Object.values(WORK_FOLDERS) as string[]).includes(entry.name)) return;
  const verdict = classifyName(entry.name);
  if (verdict.kind === 'temporary') return;
  if (verdict.kind === 'other') {
    if (!told.has(entry.name) && !entry.stats.isDirectory()) {
      told.add(entry.name);
      say(`ignored ${oneLine(entry.name)}: only .csv, .txt and .tsv files are taken`);
    }
    return;
  }
  const reason = await refusalReason(layout.inbox, entry);
  if (reason !== null) {
    await refuse(context, entry, reason);
    return;
  }
  const { size, mtimeMs, ino } = entry.stats;
  const stability = assessStability(
    observations.get(entry.name),
    { size, mtimeMs, ino },
    context.options.clock(),
    context.options.settleMs,
  );
  observations.set(entry.name, stability.observation);
  if (stability.kind !== 'complete' || context.memory.redisDown) return;
  await takeStableFile(context, entry);
}

/** Refuses an entry of the inbox: the entry itself (never a link's target) goes to failed/ with the reason. */
async function refuse(context: WatchContext, entry: DirEntry, reason: string): Promise<void> {
  const { layout, say } = context.options;
  const stamped = await freeStampedName(layout, entry.name, new Date(context.options.clock()));
  if (!(await moveEntry(join(layout.inbox, entry.name), join(layout.failed, stamped)))) return;
  await writeNote(layout.failed, errorNoteName(stamped), `${oneLine(entry.name)}: refused: ${reason}`);
  say(`refused ${oneLine(entry.name)}: ${reason} → ${oneLine(`${WORK_FOLDERS.failed}/${stamped}`)}`);
}

/** Hash, lock, rename into processing/, scan. Losing any race to another watcher just skips the file. */
async function takeStableFile(context: WatchContext, entry: DirEntry): Promise<void> {
  const { layout, say } = context.options;
  const source = join(layout.inbox, entry.name);
  let sha: string;
  try {
    sha = await hashOf(context, source, entry);
  } catch {
    return; // gone or replaced since listed: the next poll sees what is there now
  }
  const lock = await tryLock(context, sha);
  if (lock === null || lock === 'unavailable') return;
  let stamped: string;
  try {
    stamped = await freeStampedName(layout, entry.name, new Date(context.options.clock()));
    const target = join(layout.processing, stamped);
    if (!(await moveEntry(source, target))) {
      await lock.release();
      return;
    }
    // Replaced under the same name between hashing and renaming: the lock is for other content.
    if (!(await stillThere(target, entry.stats.ino))) {
      await lock.release();
      say(
        `${oneLine(entry.name)} was replaced while being taken; it is scanned from ${WORK_FOLDERS.processing}/`,
      );
      return;
    }
  } catch (error) {
    await lock.release();
    say(`cannot take ${oneLine(entry.name)} (${(error as Error).message}); trying again`);
    return;
  }
  context.memory.observations.delete(entry.name);
  await narrowFileMode(join(layout.processing, stamped));
  say(`taken ${oneLine(entry.name)} → ${oneLine(`${WORK_FOLDERS.processing}/${stamped}`)}`);
  await work(context, { stamped, sha, lock, adopted: false });
}
