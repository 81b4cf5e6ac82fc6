import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScanSettings } from '../batch/prepare.js';
import type { Clock } from '../core/clock.js';
import { oneLine } from '../core/one-line.js';
import type { RedisClient } from '../queue/connection.js';
import { makeOutputFolder, moveEntry, writeNote, type InboxLayout } from './inbox.js';
import type { HeldLock, Ledger, LedgerEntry } from './ledger.js';
import { duplicateNoteName, errorNoteName, folderOf, originalNameOf, WORK_FOLDERS } from './names.js';
import { inputCopyFolder } from '../batch/input-copy.js';
import { scanFile } from './scan-file.js';

/** A file this watcher took (or adopted) and holds the content lock of. */
export interface TakenFile {
  /** Its name in processing/. */
  readonly stamped: string;
  readonly sha: string;
  readonly lock: HeldLock;
  /** Found in processing/ rather than taken from the inbox just now. */
  readonly adopted: boolean;
}

/** What became of a taken file: filed (done/ or failed/), or left in processing/ for a later attempt. */
export type TakenOutcome =
  | { readonly kind: 'filed' }
  | { readonly kind: 'retry-later'; readonly reason: string }
  | { readonly kind: 'left' };

export interface TakenFileDeps {
  readonly layout: InboxLayout;
  readonly redis: RedisClient;
  readonly ledger: Ledger;
  readonly batchPrefix: string;
  readonly settings: ScanSettings;
  /** Where batches keep their copies of their files (see inputCopyFolder's dataDir). */
  readonly copyRoot: string | null;
  readonly dedupeWindowMs: number;
  readonly owner: string;
  readonly clock: Clock;
  readonly say: (line: string) => void;
  /** Shutdown: waiting for the batch stops and the file stays in processing/. */
  readonly stop: AbortSignal;
}

/**
 * Scans a file this watcher holds the lock of, or files it where the ledger says it belongs: the ledger
 * (by content) knows whether this very file was already finished before a restart, which output folder it
 * was given, and whether the same content was scanned recently from another file.
 */
export async function handleTakenFile(deps: TakenFileDeps, taken: TakenFile): Promise<TakenOutcome> {
  const entry = await deps.ledger.read(taken.sha);
  const ours = entry?.file === taken.stamped ? entry : null;
  const name = ours?.name ?? originalNameOf(taken.stamped);
  return (await fileFromLedger(deps, taken, entry, ours, name)) ?? scanAndFile(deps, taken, ours, name);
}

/**
 * Files a taken file without scanning it when the ledger already knows its end: this very file finished (or
 * failed) before a restart, or the same content was scanned within the dedupe window. Null: it is scanned.
 */
async function fileFromLedger(
  deps: TakenFileDeps,
  { stamped, sha }: TakenFile,
  entry: LedgerEntry | null,
  ours: LedgerEntry | null,
  name: string,
): Promise<TakenOutcome | null> {
  const { layout, say } = deps;
  const processingPath = join(layout.processing, stamped);
  // Finished before a restart, but not yet moved.
  if (ours?.state === 'done') {
    await moveEntry(processingPath, join(layout.done, stamped));
    say(`done ${oneLine(name)} → ${oneLine(ours.outDir)}`);
    return { kind: 'filed' };
  }
  if (ours?.state === 'failed') return fileAsFailed(deps, stamped, name, ours.reason ?? 'failed');
  const scannedAt = entry?.finishedAt ?? entry?.claimedAt ?? '';
  if (
    ours === null &&
    entry?.state === 'done' &&
    deps.dedupeWindowMs > 0 &&
    deps.clock() - Date.parse(scannedAt) < deps.dedupeWindowMs
  ) {
    await writeNote(
      layout.done,
      duplicateNoteName(stamped),
      `${oneLine(name)}: not scanned again: the same content (sha256 ${sha}) was scanned at ${scannedAt} from ${oneLine(entry.name)}; its outputs are in ${oneLine(entry.outDir)}`,
    );
    await moveEntry(processingPath, join(layout.done, stamped));
    say(
      `duplicate ${oneLine(name)}: same content as ${oneLine(entry.name)}, scanned at ${scannedAt} → ${oneLine(entry.outDir)}`,
    );
    return { kind: 'filed' };
  }
  return null;
}

/** Scans the file, recording it in the ledger as it goes, and files it by the outcome. */
async function scanAndFile(
  deps: TakenFileDeps,
  taken: TakenFile,
  ours: LedgerEntry | null,
  name: string,
): Promise<TakenOutcome> {
  const { layout, ledger, say } = deps;
  const { stamped, sha } = taken;
  const iso = () => new Date(deps.clock()).toISOString();
  const processingPath = join(layout.processing, stamped);
  // A resumed file keeps its folder, so its batch id (content, options, folder) and its batch stay the same.
  const outDir = ours?.outDir ?? join(layout.outbox, folderOf(stamped));
  const claimedAt = ours?.claimedAt ?? iso();
  const record = (over: Partial<LedgerEntry>) =>
    ledger.write(
      sha,
      { state: 'processing', file: stamped, name, outDir, claimedAt, owner: deps.owner, ...over },
      deps.dedupeWindowMs,
    );
  await record({});
  await makeOutputFolder(outDir);
  if (taken.adopted)
    say(
      `resuming ${oneLine(name)} (${oneLine(`${WORK_FOLDERS.processing}/${stamped}`)}) → ${oneLine(outDir)}`,
    );
  const outcome = await scanFile(
    deps.redis,
    deps.batchPrefix,
    {
      path: processingPath,
      displayName: name,
      outDir,
      copyTo: inputCopyFolder(deps.copyRoot, outDir),
      settings: deps.settings,
      submittedAt: iso(),
    },
    AbortSignal.any([deps.stop, taken.lock.lost]),
  );
  switch (outcome.kind) {
    case 'done': {
      await record({ state: 'done', finishedAt: iso(), exitCode: outcome.exitCode });
      await moveEntry(processingPath, join(layout.done, stamped));
      const counts =
        outcome.rows !== null
          ? ` (${outcome.rows} rows; lookups failed: ${outcome.lookupsFailed}, invalid numbers: ${outcome.invalidNumbers}, malformed records: ${outcome.malformedRecords})`
          : '';
      say(`done ${oneLine(name)} → ${oneLine(outDir)}${counts}`);
      return { kind: 'filed' };
    }
    case 'bad-input':
      await record({ state: 'failed', finishedAt: iso(), reason: outcome.reason });
      // Nothing was written for it: no empty folder in the outbox.
      await rmdir(outDir).catch(() => undefined);
      return fileAsFailed(deps, stamped, name, outcome.reason);
    case 'retry-later':
      return { kind: 'retry-later', reason: outcome.reason };
    case 'stopped':
      say(
        deps.stop.aborted
          ? `${oneLine(name)} stays in ${WORK_FOLDERS.processing}/ (${oneLine(stamped)}) and resumes at the next start`
          : `${oneLine(name)}: lost its lock (Redis was away too long); left in ${WORK_FOLDERS.processing}/ for whoever holds it now`,
      );
      return { kind: 'left' };
  }
}

/** Moves a taken file to failed/ with a note saying why. */
async function fileAsFailed(
  deps: TakenFileDeps,
  stamped: string,
  name: string,
  reason: string,
): Promise<TakenOutcome> {
  const { layout, say } = deps;
  if (await moveEntry(join(layout.processing, stamped), join(layout.failed, stamped)))
    await writeNote(layout.failed, errorNoteName(stamped), reason);
  say(`failed ${oneLine(name)}: ${reason} → ${oneLine(`${WORK_FOLDERS.failed}/${stamped}`)}`);
  return { kind: 'filed' };
}
