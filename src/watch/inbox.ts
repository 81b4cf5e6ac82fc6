import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { stampedName, WORK_FOLDERS } from './names.js';

/** Folders the watcher creates: group members may read results, nobody else. */
const FOLDER_MODE = 0o750;
/** Files the watcher writes or takes in. */
const FILE_MODE = 0o640;

/** Where everything lives, all as real paths (no symbolic link in between). */
export interface InboxLayout {
  readonly inbox: string;
  readonly processing: string;
  readonly done: string;
  readonly failed: string;
  readonly outbox: string;
}

const errnoCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Checks the inbox (an existing folder), creates processing/, done/ and failed/ inside it and the outbox, and
 * resolves them all to real paths. A work folder that is a symbolic link is refused: files would leave the
 * inbox through it.
 */
export async function openInbox(inboxArg: string, outboxArg: string): Promise<InboxLayout> {
  let inbox: string;
  try {
    inbox = await realpath(inboxArg);
  } catch (error) {
    throw new UsageError(
      `${inboxArg}: ${errnoCode(error) === 'ENOENT' ? 'no such folder' : `cannot be opened (${errnoCode(error) ?? 'error'})`}`,
    );
  }
  if (!(await stat(inbox)).isDirectory()) throw new UsageError(`${inboxArg}: is a file, not a folder`);
  const work: Record<keyof typeof WORK_FOLDERS, string> = { processing: '', done: '', failed: '' };
  for (const [key, name] of Object.entries(WORK_FOLDERS) as [keyof typeof WORK_FOLDERS, string][]) {
    const path = join(inbox, name);
    try {
      await mkdir(path, { mode: FOLDER_MODE });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST')
        throw new UsageError(`${inboxArg}: cannot create ${name}/ there (${errnoCode(error) ?? 'error'})`);
    }
    if (!(await lstat(path)).isDirectory())
      throw new UsageError(`${join(inboxArg, name)}: must be a folder, not a file or a symbolic link`);
    work[key] = path;
  }
  let outbox: string;
  try {
    await mkdir(outboxArg, { recursive: true, mode: FOLDER_MODE });
    outbox = await realpath(outboxArg);
    const probe = join(outbox, `.reachscan-write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    throw new UsageError(`--out ${outboxArg}: cannot write there (${errnoCode(error) ?? 'error'})`);
  }
  if (outbox === inbox || Object.values(work).includes(outbox))
    throw new UsageError(`--out ${outboxArg}: must not be the inbox or one of its work folders`);
  return { inbox, ...work, outbox };
}

export interface DirEntry {
  readonly name: string;
  /** From lstat: a symbolic link is seen as a link, never as what it points to. */
  readonly stats: Stats;
}

/** The entries of a folder with their lstat; entries that vanish while listed are left out. */
export async function listFolder(folder: string): Promise<DirEntry[]> {
  const names = await readdir(folder);
  const entries: DirEntry[] = [];
  for (const name of names) {
    try {
      entries.push({ name, stats: await lstat(join(folder, name)) });
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return entries;
}

/**
 * Why an entry of the inbox with a candidate name must not be taken, or null when it may. Links are never
 * followed, so nothing outside the inbox is ever read or moved.
 */
export async function refusalReason(folder: string, entry: DirEntry): Promise<string | null> {
  const { stats } = entry;
  if (stats.isSymbolicLink()) return 'a symbolic link (links are never followed)';
  if (stats.isDirectory()) return 'a folder, not a file';
  if (!stats.isFile()) return 'not a regular file (a pipe, socket or device)';
  // Another name for the same file lives elsewhere: its content could change under the scan.
  if (stats.nlink > 1) return 'a hard link (the same file is also reachable outside the inbox)';
  try {
    if ((await realpath(join(folder, entry.name))) !== join(folder, entry.name))
      return 'resolves outside the inbox';
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
  return null;
}

/**
 * The sha256 of a regular file, read without following a link, and only if it is still the file lstat saw
 * (same inode): swapped for a link or another file in between, it throws `CHANGED`.
 */
export async function hashFile(path: string, expectedIno: number): Promise<string> {
  // O_NONBLOCK: a FIFO put in place since lstat must not hang the watcher on open.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.ino !== expectedIno)
      throw Object.assign(new Error(`${path} changed while being read`), { code: 'CHANGED' });
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** A stamped name not yet used in processing/, done/, failed/ nor (as a folder) in the outbox. */
export async function freeStampedName(layout: InboxLayout, name: string, at: Date): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const candidate = stampedName(name, at, attempt);
    const taken = await Promise.all([
      exists(join(layout.processing, candidate.file)),
      exists(join(layout.done, candidate.file)),
      exists(join(layout.failed, candidate.file)),
      exists(join(layout.outbox, candidate.folder)),
    ]);
    if (!taken.includes(true)) return candidate.file;
  }
}

/**
 * Moves an entry with rename(2): atomic on one file system, and it moves a link itself, never its target.
 * False when the entry is gone (another watcher took it first).
 */
export async function moveEntry(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/**
 * A taken file holds phone numbers and now sits in the watcher's folders: read-write for its owner, read for
 * the group at most. Never widened; a file the watcher may not change (another owner's) keeps its mode.
 */
export async function narrowFileMode(path: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const { mode } = await handle.stat();
    if ((mode & 0o777 & ~FILE_MODE) !== 0) await handle.chmod(mode & FILE_MODE);
  } catch {
    // Gone, replaced by a link, or not ours: left as it is.
  } finally {
    await handle?.close();
  }
}

/** A short note beside a file in done/ or failed/, written whole under a temporary name first. */
export async function writeNote(folder: string, name: string, text: string): Promise<void> {
  const temporary = join(folder, `.${name}.${process.pid}.tmp`);
  await writeFile(temporary, text.endsWith('\n') ? text : `${text}\n`, { mode: FILE_MODE });
  await rename(temporary, join(folder, name));
}

/** Creates a file's output folder (kept when it exists: a resumed file writes into the same one). */
export async function makeOutputFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: FOLDER_MODE });
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
}
