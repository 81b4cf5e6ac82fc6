import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BatchFiles, BatchRecord, SavedInput } from '../batch/files.js';
import { assertBatchJobData } from '../queue/job-data.js';
import { HttpProblem } from './problem.js';
import { saveUpload } from './upload.js';

/** Batch ids are 24 lower-case hex characters (see deriveBatchId); anything else never reaches a path. */
export const BATCH_ID = /^[0-9a-f]{24}$/;
/** Uploads are named by the SHA-256 of their bytes. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function assertBatchId(id: string): void {
  if (!BATCH_ID.test(id))
    throw new HttpProblem(400, 'batch id must be 24 hexadecimal characters', { option: 'id' });
}

/** The files of a batch the API serves, by URL name; nothing else in the folder is reachable. */
export const SERVED_FILES = {
  'results.csv': { type: 'text/csv; charset=utf-8' },
  'report.json': { type: 'application/json; charset=utf-8' },
  'report.html': { type: 'text/html; charset=utf-8' },
  'rejects.csv': { type: 'text/csv; charset=utf-8' },
} as const;
export type ServedFile = keyof typeof SERVED_FILES;

/**
 * Every output a batch may write, by its file name (`GET /batches/:id/files/:name`): the stale list carries its
 * day count (`no-connectivity-60d.csv`), results.xlsx exists when the batch was asked for it.
 */
export const OUTPUT_NAME =
  /^(?:results\.csv|results\.xlsx|rejects\.csv|changes\.csv|report\.html|report\.md|report\.json|no-connectivity-[1-9][0-9]{0,4}d\.csv)$/;

const OUTPUT_TYPES: Readonly<Record<string, string>> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** The content type of an output, by its extension. */
export function outputType(name: string): string {
  return OUTPUT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

/** The outputs in the order people look for them: results first, reports last. */
const OUTPUT_ORDER = [
  'results.csv',
  'results.xlsx',
  'rejects.csv',
  'no-connectivity',
  'changes.csv',
  'report.html',
  'report.md',
  'report.json',
];
const outputRank = (name: string) => OUTPUT_ORDER.findIndex((prefix) => name.startsWith(prefix));

const FOLDER_MODE = 0o750;

/**
 * The API's folder: `uploads/` (inputs, named by content) and `batches/<id>/` (outputs, `batch.json`). Every
 * path is built here from a validated id or hash and a fixed name.
 */
export class DataDir implements BatchFiles {
  readonly uploads: string;
  readonly batches: string;

  constructor(readonly root: string) {
    this.uploads = join(root, 'uploads');
    this.batches = join(root, 'batches');
  }

  async create(): Promise<void> {
    for (const dir of [this.root, this.uploads, this.batches]) await makeFolder(dir);
  }

  batchDir(id: string): string {
    assertBatchId(id);
    return join(this.batches, id);
  }

  async createBatchDir(id: string): Promise<string> {
    const dir = this.batchDir(id);
    await makeFolder(dir);
    return dir;
  }

  file(id: string, name: ServedFile | 'retry-rows.txt'): string {
    return join(this.batchDir(id), name);
  }

  /** An output of a batch by its file name (checked against {@link OUTPUT_NAME}). */
  outputPath(id: string, name: string): string {
    if (!OUTPUT_NAME.test(name)) throw new HttpProblem(404, `no output named ${name}`);
    return join(this.batchDir(id), name);
  }

  /** The outputs a batch's folder holds now, in the order people look for them. */
  async outputs(id: string): Promise<string[]> {
    const names = await readdir(this.batchDir(id)).catch(() => [] as string[]);
    return names.filter((name) => OUTPUT_NAME.test(name)).sort((a, b) => outputRank(a) - outputRank(b));
  }

  /** The ids of the batch folders (whatever their state). */
  async batchIds(): Promise<string[]> {
    const names = await readdir(this.batches).catch(() => [] as string[]);
    return names.filter((name) => BATCH_ID.test(name));
  }

  /** Removes a batch's folder and, when no other batch reads it, its upload. */
  async removeBatch(id: string, inputSha256: string | null): Promise<void> {
    await rm(this.batchDir(id), { recursive: true, force: true });
    if (inputSha256 !== null && !(await this.uploadInUse(inputSha256))) await this.removeUpload(inputSha256);
  }

  async removeUpload(sha256: string): Promise<void> {
    await rm(this.uploadPath(sha256), { force: true });
  }

  /** Whether a batch still has this upload as its input. */
  async uploadInUse(sha256: string): Promise<boolean> {
    for (const id of await this.batchIds()) {
      const record = await this.readRecord(id).catch(() => null);
      if (record?.inputSha256 === sha256) return true;
    }
    return false;
  }

  /** The uploads folder's inputs: SHA-256 and last change (ms). */
  async uploadFiles(): Promise<{ sha256: string; modifiedMs: number }[]> {
    const names = await readdir(this.uploads).catch(() => [] as string[]);
    const found: { sha256: string; modifiedMs: number }[] = [];
    for (const name of names) {
      const sha256 = name.replace(/\.csv$/, '');
      if (!SHA256_HEX.test(sha256)) continue;
      const info = await stat(join(this.uploads, name)).catch(() => null);
      if (info !== null) found.push({ sha256, modifiedMs: info.mtimeMs });
    }
    return found;
  }

  /** A new upload's temporary name (in the uploads folder, so the rename to its final name is atomic). */
  incomingPath(): string {
    return join(this.uploads, `.incoming-${randomUUID()}`);
  }

  uploadPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError('an upload is named by its SHA-256');
    return join(this.uploads, `${sha256}.csv`);
  }

  /** An input made here (a retry's), with no size limit of the API's. */
  saveInput(source: Readable): Promise<SavedInput> {
    return saveUpload(source, this, Number.POSITIVE_INFINITY);
  }

  async readRecord(id: string): Promise<BatchRecord | null> {
    let text: string;
    try {
      text = await readFile(join(this.batchDir(id), 'batch.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const record = JSON.parse(text) as unknown;
    assertBatchRecord(record);
    return record;
  }

  /** Written whole under a temporary name, then renamed: a reader never sees half a record. */
  async writeRecord(record: BatchRecord): Promise<void> {
    const dir = await this.createBatchDir(record.id);
    const temp = join(dir, `.batch.json.${randomUUID()}`);
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o640 });
    await rename(temp, join(dir, 'batch.json'));
  }
}

async function makeFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  // mkdir's mode is filtered by the umask, and an existing folder keeps its own: say it once more.
  await chmod(dir, FOLDER_MODE);
}

function assertBatchRecord(value: unknown): asserts value is BatchRecord {
  const r = value as Partial<BatchRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    r.version !== 1 ||
    typeof r.id !== 'string' ||
    !BATCH_ID.test(r.id) ||
    typeof r.inputSha256 !== 'string' ||
    !SHA256_HEX.test(r.inputSha256) ||
    typeof r.displayName !== 'string' ||
    typeof r.submittedAt !== 'string' ||
    !(r.retryOf === null || (typeof r.retryOf === 'string' && BATCH_ID.test(r.retryOf))) ||
    !(
      r.retry === null ||
      (typeof r.retry === 'object' && typeof r.retry.id === 'string' && BATCH_ID.test(r.retry.id))
    )
  ) {
    throw new TypeError('batch.json has an unexpected shape');
  }
  assertBatchJobData(r.job);
}
