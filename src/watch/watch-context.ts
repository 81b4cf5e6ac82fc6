import { lstat } from 'node:fs/promises';
import type { ScanSettings } from '../batch/prepare.js';
import type { Clock } from '../core/clock.js';
import { oneLine } from '../core/one-line.js';
import type { RedisClient } from '../queue/connection.js';
import { hashFile, type DirEntry, type InboxLayout } from './inbox.js';
import type { HeldLock, Ledger } from './ledger.js';
import { originalNameOf, WORK_FOLDERS } from './names.js';
import type { Observation } from './stability.js';
import { handleTakenFile, type TakenFile } from './taken-file.js';

export interface WatcherOptions {
  readonly layout: InboxLayout;
  readonly redis: RedisClient;
  readonly ledger: Ledger;
  /** The queue prefix batches go to. */
  readonly batchPrefix: string;
  readonly settings: ScanSettings;
  /** REACHSCAN_DATA_DIR (each batch's copy of its file goes to its `inputs/`), or null: the copy sits in the file's output folder. */
  readonly copyRoot: string | null;
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

/** What one running watcher remembers from poll to poll: its own, made afresh by every runWatcher. */
export interface WatchMemory {
  /** Inbox files seen so far, by name: how each looked, and since when, to tell when it is complete. */
  readonly observations: Map<string, Observation>;
  /** Names already reported as ignored, so a long-lived stray file is mentioned once. */
  readonly told: Set<string>;
  /** Files in processing/ waiting for their next attempt: name → not before (ms), attempts so far. */
  readonly retries: Map<string, { notBefore: number; attempts: number }>;
  /**
   * Content hashes by path, so a file another watcher holds (in processing/, or a copy of one in the inbox)
   * is not read again at every poll.
   */
  readonly hashes: Map<string, { key: string; sha: string }>;
  /** Redis stopped answering; said once per outage, and no file is taken until it answers again. */
  redisDown: boolean;
  /** The inbox could not be listed; said once until it can be again. */
  inboxUnreadable: boolean;
}

/** A running watcher: its options, its stop signal and its memory. */
export interface WatchContext {
  readonly options: WatcherOptions;
  readonly stop: AbortSignal;
  readonly memory: WatchMemory;
}

/** Delays before a file left in processing/ by an infrastructure failure is tried again. */
const RETRY_DELAYS_MS = [10_000, 30_000, 60_000, 120_000, 300_000] as const;

export function createWatchContext(options: WatcherOptions, stop: AbortSignal): WatchContext {
  return {
    options,
    stop,
    memory: {
      observations: new Map(),
      told: new Set(),
      retries: new Map(),
      hashes: new Map(),
      redisDown: false,
      inboxUnreadable: false,
    },
  };
}

/** The sha256 of an entry's content, read again only when its inode, size or modification time changed. */
export async function hashOf(context: WatchContext, path: string, entry: DirEntry): Promise<string> {
  const { hashes } = context.memory;
  const key = `${entry.stats.ino}:${entry.stats.size}:${entry.stats.mtimeMs}`;
  const known = hashes.get(path);
  if (known?.key === key) return known.sha;
  const sha = await hashFile(path, entry.stats.ino);
  hashes.set(path, { key, sha });
  return sha;
}

/** Forgets cached hashes of a folder's entries that are gone. */
export function forgetHashes(context: WatchContext, folder: string, present: ReadonlySet<string>): void {
  const { hashes } = context.memory;
  for (const path of hashes.keys())
    if (path.startsWith(`${folder}/`) && !present.has(path.slice(folder.length + 1))) hashes.delete(path);
}

/** Redis answered (or not): say so once per outage. */
export function redisOutcome(context: WatchContext, error?: unknown): void {
  const { memory } = context;
  const { say } = context.options;
  if (error === undefined) {
    if (memory.redisDown) say('Redis answers again; taking files');
    memory.redisDown = false;
  } else if (!memory.redisDown) {
    memory.redisDown = true;
    say(`Redis is not answering (${(error as Error).message}); files wait where they are`);
  }
}

/** The content lock of `sha`: null when another watcher holds it, 'unavailable' when Redis does not answer. */
export async function tryLock(context: WatchContext, sha: string): Promise<HeldLock | null | 'unavailable'> {
  try {
    const lock = await context.options.ledger.lock(sha);
    redisOutcome(context);
    return lock;
  } catch (error) {
    redisOutcome(context, error);
    return 'unavailable';
  }
}

/** A file left in processing/ by a failure that is not its own waits before its next attempt. */
function retryLater(context: WatchContext, stamped: string, reason: string): void {
  const { retries } = context.memory;
  const attempts = (retries.get(stamped)?.attempts ?? 0) + 1;
  const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ?? 300_000;
  retries.set(stamped, { notBefore: context.options.clock() + delay, attempts });
  context.options.say(
    `${oneLine(originalNameOf(stamped))}: ${reason}; it stays in ${WORK_FOLDERS.processing}/ and is tried again in ${delay / 1000} s`,
  );
}

/** Handles a held file; any surprise leaves it in processing/ for a later attempt. The lock is released. */
export async function work(context: WatchContext, taken: TakenFile): Promise<void> {
  try {
    const outcome = await handleTakenFile({ ...context.options, stop: context.stop }, taken);
    if (outcome.kind === 'retry-later') retryLater(context, taken.stamped, outcome.reason);
    else if (outcome.kind === 'filed') context.memory.retries.delete(taken.stamped);
  } catch (error) {
    retryLater(context, taken.stamped, (error as Error).message);
  } finally {
    await taken.lock.release();
  }
}

/** Whether `path` is still the regular file with inode `ino`. */
export async function stillThere(path: string, ino: number): Promise<boolean> {
  try {
    const stats = await lstat(path);
    return stats.isFile() && stats.ino === ino;
  } catch {
    return false;
  }
}
