import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asDiskError, errorMessage, ReachscanError } from '../core/errors.js';
import { InputError } from '../input/errors.js';
import { xlsxToCsv, type XlsxReadOptions } from '../input/xlsx-reader.js';
import type { BatchJobData, InputCopyRecord } from '../queue/job-data.js';
import { ABANDONED_TTL_S } from './submit.js';

/**
 * A batch owns its input: intake copies the user's file once, and every later step (ingest, partial results,
 * the outputs) reads that copy. The user's file may then be truncated, rewritten, replaced or appended to while
 * the batch runs without changing a single output row.
 */

/** The folder under `--out` that holds the copy when no data folder is configured. */
export const INPUT_COPY_FOLDER = '.reachscan';
/** The copy holds phone numbers: owner and group only, like the outputs. */
const COPY_FILE_MODE = 0o640;
const COPY_FOLDER_MODE = 0o750;

/** Where intake keeps a batch's copy: `<data folder>/inputs/`, or `<out>/.reachscan/` without a data folder. */
export function inputCopyFolder(dataDir: string | null, outDir: string): string {
  return dataDir !== null ? join(dataDir, 'inputs') : join(outDir, INPUT_COPY_FOLDER);
}

/** The input as intake read it: where it now is, its size, and its content hash (still open, for the id). */
export interface IntakeRead {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** The SHA-256 state after the content: the batch id continues it with the options. */
  readonly content: Hash;
}

/** The batch's copy no longer holds what intake read: it stops with one line rather than write wrong rows. */
export class InputCopyError extends ReachscanError {
  constructor(label: string, what: string) {
    super(
      'INPUT_COPY_CHANGED',
      `${label}: the batch's copy of its input ${what}; the batch stops rather than write wrong rows (scan the file again)`,
    );
  }
}

/** The copy could not be made: nothing is queued or paid for. */
export class InputCopyFailed extends ReachscanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT_COPY_FAILED', message, options);
  }
}

/** Opens the user's file the way the sniffer names its problems (the same one line for the same mistake). */
async function openInput(path: string, label: string) {
  try {
    return await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      label,
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : 'cannot be read',
    );
  }
}

/** A pass-through that hashes and counts what goes by. */
function hashing(): { through: Transform; hash: Hash; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const through = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { through, hash, bytes: () => bytes };
}

/**
 * Copies the user's file into `folder` under a temporary name, hashing it on the way (one read of the user's
 * file, ever). The caller renames it to its final name once the batch id is known, or removes it.
 */
export async function copyInput(source: string, folder: string, label: string): Promise<IntakeRead> {
  const handle = await openInput(source, label);
  try {
    await mkdir(folder, { recursive: true, mode: COPY_FOLDER_MODE });
  } catch (error) {
    await handle.close();
    throw copyFailure(error, folder);
  }
  await sweepAbandonedCopies(folder, Date.now());
  const temp = join(folder, `.intake-${randomUUID()}.partial`);
  const { through, hash, bytes } = hashing();
  const reader = handle.createReadStream();
  let readFailed = false;
  reader.once('error', () => (readFailed = true));
  try {
    await pipeline(reader, through, createWriteStream(temp, { flags: 'wx', mode: COPY_FILE_MODE }));
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    await removeEmptyCopyFolder(folder);
    if (readFailed) throw new InputError(label, 'cannot be read');
    throw copyFailure(error, folder);
  }
  return { path: temp, bytes: bytes(), sha256: hash.copy().digest('hex'), content: hash };
}

/**
 * Converts a workbook into the batch's copy, as CSV (one read of the user's file, streamed). With a folder, like
 * {@link copyInput}: a temporary name the caller renames. Without one (an API upload, already the batch's own),
 * the CSV is kept next to the upload under a name of its sheet and phone column, which the conversion depends on.
 */
export async function convertXlsxInput(
  source: string,
  folder: string | null,
  label: string,
  options: XlsxReadOptions,
): Promise<IntakeRead> {
  const handle = await openInput(source, label);
  await handle.close();
  const target = folder ?? dirname(source);
  if (folder !== null) {
    try {
      await mkdir(folder, { recursive: true, mode: COPY_FOLDER_MODE });
    } catch (error) {
      throw copyFailure(error, folder);
    }
    await sweepAbandonedCopies(folder, Date.now());
  }
  const temp = join(target, `.intake-${randomUUID()}.partial`);
  const { through, hash, bytes } = hashing();
  try {
    await pipeline(
      xlsxToCsv(source, label, options),
      through,
      createWriteStream(temp, { flags: 'wx', mode: COPY_FILE_MODE }),
    );
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (folder !== null) await removeEmptyCopyFolder(folder);
    if (error instanceof InputError) throw error;
    throw copyFailure(error, target);
  }
  const read = { path: temp, bytes: bytes(), sha256: hash.copy().digest('hex'), content: hash };
  if (folder !== null) return read;
  const kept = `${source}.${createHash('sha256')
    .update(JSON.stringify([options.sheet ?? null, options.column ?? null]))
    .digest('hex')
    .slice(0, 12)}.csv`;
  await rename(temp, kept).catch(async (error: unknown) => {
    await rm(temp, { force: true }).catch(() => undefined);
    throw copyFailure(error, target);
  });
  return { ...read, path: kept };
}

function copyFailure(error: unknown, folder: string): ReachscanError {
  return (
    asDiskError(error, folder) ??
    new InputCopyFailed(
      `cannot keep the batch's copy of its input in ${folder} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`,
      { cause: error },
    )
  );
}

/** Hashes a file that is already the batch's own (an API upload, written by the API and never changed). */
export async function hashInput(path: string, label: string): Promise<IntakeRead> {
  const handle = await openInput(path, label);
  const { through, hash, bytes } = hashing();
  try {
    await pipeline(handle.createReadStream(), through, async (chunks: AsyncIterable<Buffer>) => {
      for await (const _ of chunks);
    });
  } catch (error) {
    throw new InputError(label, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { path, bytes: bytes(), sha256: hash.copy().digest('hex'), content: hash };
}

/**
 * Moves the copy to its final name. A copy already there belongs to the same batch (same id: same bytes, same
 * options), which may be reading it right now: it is kept, and this one dropped, never swapped under a reader.
 */
export async function keepCopy(read: IntakeRead, batchId: string): Promise<string> {
  const path = join(dirname(read.path), `${batchId}.csv`);
  try {
    const existing = await stat(path).catch(() => null);
    // Nearly as old as the sweep's limit, it belongs to no running batch: replaced by this fresh one, which the
    // sweep then leaves alone while the new batch runs. (Touching it instead would look, to a step reading it,
    // like a change.)
    if (
      existing?.isFile() === true &&
      existing.size === read.bytes &&
      Date.now() - existing.mtimeMs < ABANDONED_TTL_S * 1000 - DEAD_INTAKE_MS
    ) {
      await rm(read.path, { force: true });
      return path;
    }
    await rename(read.path, path);
  } catch (error) {
    await rm(read.path, { force: true }).catch(() => undefined);
    throw copyFailure(error, dirname(read.path));
  }
  return path;
}

/** Removes a copy intake made but no batch took (the input was refused, the batch had already run). */
export async function discardCopy(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
  await removeEmptyCopyFolder(dirname(path));
}

/** What a step checks the copy against before reading it, and after (the file must not move meanwhile). */
export interface CopyFingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * Checks the batch's copy against what intake read (size, then SHA-256). Jobs queued before intake kept copies
 * carry no record and are not checked.
 */
export async function verifyInputCopy(data: BatchJobData): Promise<CopyFingerprint | null> {
  if (data.inputCopy === undefined) return null;
  const before = await fingerprint(data);
  await assertContent(data, before.size);
  return before;
}

/** Throws unless the copy has the size and SHA-256 intake recorded. */
async function assertContent(data: BatchJobData, size: number): Promise<void> {
  const record = data.inputCopy as InputCopyRecord;
  if (size !== record.bytes)
    throw new InputCopyError(data.displayName, `is ${size} bytes, not the ${record.bytes} read at intake`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(data.inputPath)) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== record.sha256)
    throw new InputCopyError(
      data.displayName,
      'no longer has the content read at intake (its SHA-256 differs)',
    );
}

/**
 * Throws when the copy changed since `before` (checked once a step has read it, before its results count). A
 * file renamed over it with the same bytes (the API stores the same upload again under the same name) is no
 * change: only when size, time or inode moved is the content hashed again to tell.
 */
export async function assertCopyUnchanged(data: BatchJobData, before: CopyFingerprint | null): Promise<void> {
  if (before === null) return;
  const now = await fingerprint(data);
  if (now.size === before.size && now.mtimeMs === before.mtimeMs && now.ino === before.ino) return;
  if (now.size !== before.size) throw new InputCopyError(data.displayName, 'changed while it was being read');
  await assertContent(data, now.size).catch(() => {
    throw new InputCopyError(data.displayName, 'changed while it was being read');
  });
}

async function fingerprint(data: BatchJobData): Promise<CopyFingerprint> {
  try {
    const { size, mtimeMs, ino } = await stat(data.inputPath);
    return { size, mtimeMs, ino };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InputCopyError(data.displayName, `cannot be read (${code}: ${data.inputPath})`);
  }
}

/** Removes the batch's copy with the rest of its state; an API upload (kept for retries) stays. */
export async function removeInputCopy(data: BatchJobData): Promise<void> {
  if (data.inputCopy?.disposable !== true) return;
  await discardCopy(data.inputPath);
}

async function removeEmptyCopyFolder(folder: string): Promise<void> {
  // Only the folder intake made under --out; a data folder's inputs/ stays.
  if (basename(folder) === INPUT_COPY_FOLDER) await rmdir(folder).catch(() => undefined);
}

export type { InputCopyRecord };

/** An intake that died mid-copy leaves its temporary file; after a day it is nobody's. */
const DEAD_INTAKE_MS = 24 * 3600 * 1000;

/**
 * Removes copies whose batch cannot be running any more: older than a batch's working data lives in Redis
 * (ABANDONED_TTL_S: a batch given up and never run again), and temporary files of intakes that died. Run at
 * each intake into the folder, so a data folder does not fill with copies of abandoned batches.
 */
export async function sweepAbandonedCopies(folder: string, nowMs: number): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const maxAge = /^[0-9a-f]{24}\.csv$/.test(name)
      ? ABANDONED_TTL_S * 1000
      : /^\.intake-[0-9a-f-]+\.partial$/.test(name)
        ? DEAD_INTAKE_MS
        : null;
    if (maxAge === null) continue;
    const path = join(folder, name);
    const info = await stat(path).catch(() => null);
    if (info !== null && nowMs - info.mtimeMs > maxAge)
      await rm(path, { force: true }).catch(() => undefined);
  }
}
