import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScanSettings } from '../batch/prepare.js';
import type { Clock } from '../core/clock.js';
import type { RedisClient } from '../queue/connection.js';
import {
  freeStampedName,
  hashFile,
  listFolder,
  moveEntry,
  narrowFileMode,
  refusalReason,
  writeNote,
  type DirEntry,
  type InboxLayout,
} from './inbox.js';
import type { HeldLock, Ledger } from './ledger.js';
import { classifyName, errorNoteName, originalNameOf, WORK_FOLDERS } from './names.js';
import { handleTakenFile, type TakenFile } from './taken-file.js';
import { assessStability, type Observation } from './stability.js';

export interface WatcherOptions {
  readonly layout: InboxLayout;
  readonly redis: RedisClient;
  readonly ledger: Ledger;
  /** The queue prefix batches go to. */
  readonly batchPrefix: string;
  readonly settings: ScanSettings;
  /** How often the inbox is listed, ms. */
  readonly pollMs: number;
  /** How long a file's size and modification time must stay unchanged before it is taken, ms. */
  readonly settleMs: number;
  /** A file whose content was scanned less than this long ago is not scanned again; 0 = always scan. */
  readonly dedupeWindowMs: number;
  readonly owner: string;
  readonly clock: Clock;
  /** One line per event, for the operator (stderr). */
  readonly say: (line: string) => void;
}

/** Delays before a file left in processing/ by an infrastructure failure is tried again. */
const RETRY_DELAYS_MS = [10_000, 30_000, 60_000, 120_000, 300_000] as const;

/**
 * The watched folder: polls the inbox, takes complete files one at a time (atomic rename into processing/,
 * under a content lock in Redis), scans them, and files them under done/ or failed/. Files left in
 * processing/ by a watcher that died are adopted once their lock expires. Returns when `stop` aborts; a file
 * being scanned then stays in processing/ and is resumed by the next watcher.
 */
export async function runWatcher(options: WatcherOptions, stop: AbortSignal): Promise<void> {
  const { layout, ledger, say } = options;
  const observations = new Map<string, Observation>();
  /** Names already reported as ignored, so a long-lived stray file is mentioned once. */
  const told = new Set<string>();
  /** Files in processing/ waiting for their next attempt: name → not before (ms), attempts so far. */
  const retries = new Map<string, { notBefore: number; attempts: number }>();
  /**
   * Content hashes by path, so a file another watcher holds (in processing/, or a copy of one in the inbox)
   * is not read again at every poll.
   */
  const hashes = new Map<string, { key: string; sha: string }>();
  const hashOf = async (path: string, entry: DirEntry): Promise<string> => {
    const key = `${entry.stats.ino}:${entry.stats.size}:${entry.stats.mtimeMs}`;
    const known = hashes.get(path);
    if (known?.key === key) return known.sha;
    const sha = await hashFile(path, entry.stats.ino);
    hashes.set(path, { key, sha });
    return sha;
  };
  /** Forgets cached hashes of a folder's entries that are gone. */
  const forgetHashes = (folder: string, present: ReadonlySet<string>) => {
    for (const path of hashes.keys())
      if (path.startsWith(`${folder}/`) && !present.has(path.slice(folder.length + 1))) hashes.delete(path);
  };
  let redisDown = false;
  let inboxUnreadable = false;

  const now = () => options.clock();

  /** Redis answered (or not): say so once per outage. */
  const redisOutcome = (error?: unknown) => {
    if (error === undefined) {
      if (redisDown) say('Redis answers again; taking files');
      redisDown = false;
    } else if (!redisDown) {
      redisDown = true;
      say(`Redis is not answering (${(error as Error).message}); files wait where they are`);
    }
  };

  const tryLock = async (sha: string): Promise<HeldLock | null | 'unavailable'> => {
    try {
      const lock = await ledger.lock(sha);
      redisOutcome();
      return lock;
    } catch (error) {
      redisOutcome(error);
      return 'unavailable';
    }
  };

  /** Refuses an entry of the inbox: the entry itself (never a link's target) goes to failed/ with the reason. */
  const refuse = async (entry: DirEntry, reason: string) => {
    const stamped = await freeStampedName(layout, entry.name, new Date(now()));
    if (!(await moveEntry(join(layout.inbox, entry.name), join(layout.failed, stamped)))) return;
    await writeNote(layout.failed, errorNoteName(stamped), `${entry.name}: refused: ${reason}`);
    say(`refused ${entry.name}: ${reason} → ${WORK_FOLDERS.failed}/${stamped}`);
  };

  /** A file left in processing/ by a failure that is not its own waits before its next attempt. */
  const retryLater = (stamped: string, reason: string) => {
    const attempts = (retries.get(stamped)?.attempts ?? 0) + 1;
    const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ?? 300_000;
    retries.set(stamped, { notBefore: now() + delay, attempts });
    say(
      `${originalNameOf(stamped)}: ${reason}; it stays in ${WORK_FOLDERS.processing}/ and is tried again in ${delay / 1000} s`,
    );
  };

  /** Handles a held file; any surprise leaves it in processing/ for a later attempt. The lock is released. */
  const work = async (taken: TakenFile) => {
    try {
      const outcome = await handleTakenFile({ ...options, stop }, taken);
      if (outcome.kind === 'retry-later') retryLater(taken.stamped, outcome.reason);
      else if (outcome.kind === 'filed') retries.delete(taken.stamped);
    } catch (error) {
      retryLater(taken.stamped, (error as Error).message);
    } finally {
      await taken.lock.release();
    }
  };

  /** Files in processing/ nobody holds: left by a watcher that stopped or died, or waiting for a retry. */
  const adoptLeftovers = async () => {
    const entries = await listFolder(layout.processing);
    const present = new Set(entries.map((e) => e.name));
    forgetHashes(layout.processing, present);
    for (const name of retries.keys()) if (!present.has(name)) retries.delete(name);
    for (const entry of entries) {
      if (stop.aborted || redisDown) return;
      if (!entry.stats.isFile() || entry.name.startsWith('.')) continue;
      if ((retries.get(entry.name)?.notBefore ?? 0) > now()) continue;
      let sha: string;
      try {
        sha = await hashOf(join(layout.processing, entry.name), entry);
      } catch {
        continue;
      }
      const lock = await tryLock(sha);
      if (lock === null || lock === 'unavailable') continue;
      // Taken and finished by another watcher between the listing and the lock.
      if (!(await stillThere(join(layout.processing, entry.name), entry.stats.ino))) {
        await lock.release();
        continue;
      }
      await work({ stamped: entry.name, sha, lock, adopted: true });
    }
  };

  /** New files in the inbox: refuse what must not be taken, take what is complete. */
  const takeNewFiles = async () => {
    let entries: DirEntry[];
    try {
      entries = await listFolder(layout.inbox);
      if (inboxUnreadable) say('the inbox can be read again');
      inboxUnreadable = false;
    } catch (error) {
      if (!inboxUnreadable) say(`cannot read the inbox (${(error as Error).message}); trying again`);
      inboxUnreadable = true;
      return;
    }
    const present = new Set(entries.map((e) => e.name));
    for (const name of observations.keys()) if (!present.has(name)) observations.delete(name);
    forgetHashes(layout.inbox, present);
    for (const name of told) if (!present.has(name)) told.delete(name);
    // Oldest first, so a steady stream of new files cannot starve an old one.
    entries.sort((a, b) => a.stats.mtimeMs - b.stats.mtimeMs || a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (stop.aborted) return;
      if ((Object.values(WORK_FOLDERS) as string[]).includes(entry.name)) continue;
      const verdict = classifyName(entry.name);
      if (verdict.kind === 'temporary') continue;
      if (verdict.kind === 'other') {
        if (!told.has(entry.name) && !entry.stats.isDirectory()) {
          told.add(entry.name);
          say(`ignored ${entry.name}: only .csv, .txt and .tsv files are taken`);
        }
        continue;
      }
      const reason = await refusalReason(layout.inbox, entry);
      if (reason !== null) {
        await refuse(entry, reason);
        continue;
      }
      const { size, mtimeMs, ino } = entry.stats;
      const stability = assessStability(
        observations.get(entry.name),
        { size, mtimeMs, ino },
        now(),
        options.settleMs,
      );
      observations.set(entry.name, stability.observation);
      if (stability.kind !== 'complete' || redisDown) continue;
      await take(entry);
    }
  };

  /** Hash, lock, rename into processing/, scan. Losing any race to another watcher just skips the file. */
  const take = async (entry: DirEntry) => {
    const source = join(layout.inbox, entry.name);
    let sha: string;
    try {
      sha = await hashOf(source, entry);
    } catch {
      return; // gone or replaced since listed: the next poll sees what is there now
    }
    const lock = await tryLock(sha);
    if (lock === null || lock === 'unavailable') return;
    let stamped: string;
    try {
      stamped = await freeStampedName(layout, entry.name, new Date(now()));
      const target = join(layout.processing, stamped);
      if (!(await moveEntry(source, target))) {
        await lock.release();
        return;
      }
      // Replaced under the same name between hashing and renaming: the lock is for other content.
      if (!(await stillThere(target, entry.stats.ino))) {
        await lock.release();
        say(`${entry.name} was replaced while being taken; it is scanned from ${WORK_FOLDERS.processing}/`);
        return;
      }
    } catch (error) {
      await lock.release();
      say(`cannot take ${entry.name} (${(error as Error).message}); trying again`);
      return;
    }
    observations.delete(entry.name);
    await narrowFileMode(join(layout.processing, stamped));
    say(`taken ${entry.name} → ${WORK_FOLDERS.processing}/${stamped}`);
    await work({ stamped, sha, lock, adopted: false });
  };

  while (!stop.aborted) {
    try {
      if (redisDown) await options.redis.ping().then(() => redisOutcome(), redisOutcome);
      await adoptLeftovers();
      await takeNewFiles();
    } catch (error) {
      say(`watch cycle failed (${(error as Error).message}); trying again`);
    }
    await sleep(options.pollMs, undefined, { signal: stop }).catch(() => undefined);
  }
}

async function stillThere(path: string, ino: number): Promise<boolean> {
  try {
    const stats = await lstat(path);
    return stats.isFile() && stats.ino === ino;
  } catch {
    return false;
  }
}
