import { extname } from 'node:path';

/** Extensions the watcher takes (compared case-insensitively). */
export const CANDIDATE_EXTENSIONS = ['.csv', '.txt', '.tsv', '.xlsx'] as const;

/** Suffixes of files still being written by a browser, a copy tool or an editor. */
const TEMPORARY_SUFFIXES = ['.part', '.tmp', '.crdownload', '.partial', '~'] as const;

/** The folders the watcher keeps inside the inbox. */
export const WORK_FOLDERS = { processing: 'processing', done: 'done', failed: 'failed' } as const;

export type NameVerdict =
  /** Looks like an input to take (it still has to be a complete regular file inside the inbox). */
  | { readonly kind: 'candidate' }
  /** Hidden or temporary: somebody is still writing it, or it is not meant for us. Ignored silently. */
  | { readonly kind: 'temporary' }
  /** Another kind of file (a spreadsheet, a PDF): ignored, worth saying once. */
  | { readonly kind: 'other' };

/** What a name in the inbox is, from the name alone. */
export function classifyName(name: string): NameVerdict {
  const lower = name.toLowerCase();
  // Hidden files include rsync's and LibreOffice's work files; `~$…` are Office's lock files.
  if (name.startsWith('.') || name.startsWith('~$')) return { kind: 'temporary' };
  if (TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix))) return { kind: 'temporary' };
  const extension = extname(lower);
  if ((CANDIDATE_EXTENSIONS as readonly string[]).includes(extension) && name.length > extension.length)
    return { kind: 'candidate' };
  return { kind: 'other' };
}

/** `2026-11-24T03:15:00.123Z` → `20261124T031500Z`: sorts by time, safe in file names on every system. */
export function utcStamp(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** The longest stem kept in generated names, in bytes: the stamp and a suffix must still fit in 255. */
const MAX_STEM_BYTES = 180;

/** `crm-export.csv` → `{ stem: 'crm-export', extension: '.csv' }`. */
export function splitName(name: string): { readonly stem: string; readonly extension: string } {
  const extension = extname(name);
  let stem = name.slice(0, name.length - extension.length);
  while (Buffer.byteLength(stem) > MAX_STEM_BYTES) stem = [...stem].slice(0, -1).join('');
  return { stem, extension };
}

/**
 * The name a taken file carries from then on (in processing/, done/ or failed/), and the name of its output
 * folder: `crm-export.csv` taken at 03:15:00 UTC → `crm-export-20261124T031500Z.csv` and
 * `crm-export-20261124T031500Z/`. `attempt` > 1 adds `-2`, `-3`… for the rare same-second collision.
 */
export function stampedName(
  name: string,
  at: Date,
  attempt = 1,
): { readonly file: string; readonly folder: string } {
  const { stem, extension } = splitName(name);
  const base = `${stem}-${utcStamp(at)}${attempt > 1 ? `-${attempt}` : ''}`;
  return { file: `${base}${extension}`, folder: base };
}

/** The output folder's name for a taken file's stamped name (its stem): the stamp ties the two together. */
export function folderOf(stamped: string): string {
  return stamped.slice(0, stamped.length - extname(stamped).length);
}

/** The note beside a file in failed/ (why) or in done/ (a duplicate: which earlier output has it). */
export function errorNoteName(stamped: string): string {
  return `${stamped}.error.txt`;
}
export function duplicateNoteName(stamped: string): string {
  return `${stamped}.duplicate.txt`;
}

// `s`: a name may hold a line break, and must still come back whole.
const STAMPED = /^(.*)-\d{8}T\d{6}Z(?:-\d+)?$/s;

/** The name a file was dropped under, from its stamped name (`a-20261124T031500Z.csv` → `a.csv`). */
export function originalNameOf(stamped: string): string {
  const extension = extname(stamped);
  const match = STAMPED.exec(stamped.slice(0, stamped.length - extension.length));
  return match?.[1] !== undefined ? `${match[1]}${extension}` : stamped;
}
