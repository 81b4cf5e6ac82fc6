import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../queue/connection.js';

/**
 * What the watcher remembers about a file's content, in Redis under the queue prefix (so its hash tag keeps
 * every key in one slot on a Redis Cluster): `<prefix>:watch:<inbox id>:<content sha256>`.
 */
export interface LedgerEntry {
  readonly state: 'processing' | 'done' | 'failed';
  /** The stamped name the file carries in processing/, done/ or failed/. */
  readonly file: string;
  /** The name it was dropped under. */
  readonly name: string;
  readonly outDir: string;
  readonly claimedAt: string;
  /** The watcher that last worked on it (host, pid, instance). */
  readonly owner: string;
  readonly finishedAt?: string;
  /** The batch's exit code when done (0 every valid number answered, 1 lookups failed; never strict). */
  readonly exitCode?: number;
  /** Why it failed. */
  readonly reason?: string;
}

/** An entry in flight outlives any batch (a batch's own working data expires after 30 days). */
const PROCESSING_TTL_MS = 30 * 86_400_000;
/** A finished entry is kept at least this long even with `--dedupe-window 0`: it protects restarts. */
const MIN_FINISHED_TTL_MS = 86_400_000;

export function isLedgerEntry(value: unknown): value is LedgerEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.state === 'processing' || v.state === 'done' || v.state === 'failed') &&
    typeof v.file === 'string' &&
    typeof v.name === 'string' &&
    typeof v.outDir === 'string' &&
    typeof v.claimedAt === 'string' &&
    typeof v.owner === 'string' &&
    (v.finishedAt === undefined || typeof v.finishedAt === 'string') &&
    (v.exitCode === undefined || typeof v.exitCode === 'number') &&
    (v.reason === undefined || typeof v.reason === 'string')
  );
}

/** Who this watcher is, in locks and the ledger: enough for an operator to find the process. */
export function watcherIdentity(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

// Refresh or release a lock only while it is still ours: a lock that expired may belong to another watcher.
const REFRESH_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A content lock held by this watcher. */
export interface HeldLock {
  /** Aborts when a refresh finds the lock gone or another's (it expired while Redis was away, say). */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface Ledger {
  read(sha: string): Promise<LedgerEntry | null>;
  write(sha: string, entry: LedgerEntry, dedupeWindowMs: number): Promise<void>;
  /** The content lock, or null when another watcher holds it. Refreshed every third of its TTL until released. */
  lock(sha: string): Promise<HeldLock | null>;
}

/**
 * The ledger and the content locks of one inbox. The inbox is known by a digest of its real path, so two
 * watchers on one machine (or on machines that mount the share at the same path) share them.
 */
export function createLedger(
  redis: RedisClient,
  prefix: string,
  inboxRealPath: string,
  owner: string,
  lockTtlMs: number,
): Ledger {
  const inboxId = createHash('sha256').update(inboxRealPath).digest('hex').slice(0, 16);
  const base = `${prefix}:watch:${inboxId}`;
  const entryKey = (sha: string) => `${base}:${sha}`;
  const lockKey = (sha: string) => `${base}:lock:${sha}`;
  return {
    async read(sha) {
      const raw = await redis.get(entryKey(sha));
      if (raw === null) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return null;
      }
      return isLedgerEntry(parsed) ? parsed : null;
    },
    async write(sha, entry, dedupeWindowMs) {
      const ttl =
        entry.state === 'processing' ? PROCESSING_TTL_MS : Math.max(dedupeWindowMs, MIN_FINISHED_TTL_MS);
      await redis.set(entryKey(sha), JSON.stringify(entry), 'PX', ttl);
    },
    async lock(sha) {
      const key = lockKey(sha);
      const token = `${owner}:${randomUUID()}`;
      if ((await redis.set(key, token, 'PX', lockTtlMs, 'NX')) !== 'OK') return null;
      const lost = new AbortController();
      let released = false;
      const heartbeat = setInterval(
        () => {
          redis.eval(REFRESH_IF_OURS, 1, key, token, lockTtlMs).then(
            (refreshed) => {
              if (refreshed !== 1 && !released) lost.abort();
            },
            // Redis unreachable: keep trying; if it stays away past the TTL, the next refresh finds the lock gone.
            () => undefined,
          );
        },
        Math.max(100, Math.floor(lockTtlMs / 3)),
      );
      heartbeat.unref();
      return {
        lost: lost.signal,
        async release() {
          if (released) return;
          released = true;
          clearInterval(heartbeat);
          await redis.eval(RELEASE_IF_OURS, 1, key, token).catch(() => undefined);
        },
      };
    },
  };
}
