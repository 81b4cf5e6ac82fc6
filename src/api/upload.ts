import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SavedInput } from '../batch/files.js';
import type { DataDir } from './data-dir.js';
import { HttpProblem } from './problem.js';

/** An upload as stored: named by its SHA-256. */
export type SavedUpload = SavedInput;

export function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(
    413,
    `the upload is larger than the limit of ${describeBytes(maxBytes)} (REACHSCAN_API_MAX_UPLOAD_MB)`,
  );
}

/** An upload read to its end under a temporary name, not yet an input: {@link keepUpload} or {@link dropUpload}. */
export interface StagedUpload {
  readonly temp: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Streams an upload to disk (never held in memory), mode 0600, hashing it on the way; over `maxBytes` it
 * stops reading and answers 413. The file is named by its hash once complete, so a half-written upload is
 * never taken for an input.
 */
export async function saveUpload(source: Readable, dir: DataDir, maxBytes: number): Promise<SavedUpload> {
  return keepUpload(await stageUpload(source, dir, maxBytes), dir);
}

/**
 * The first half of {@link saveUpload}: the bytes on disk under a temporary name. A multipart upload is kept
 * only once the whole request proved well-formed, so a refused request leaves nothing in the uploads folder
 * (and never replaces an upload another batch reads).
 */
export async function stageUpload(source: Readable, dir: DataDir, maxBytes: number): Promise<StagedUpload> {
  const temp = dir.incomingPath();
  const hash = createHash('sha256');
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  // Heard here, so a write still pending when we give up cannot end the process with an unheard 'error'.
  const written: { failure: Error | null } = { failure: null };
  out.on('error', (error) => (written.failure ??= error));
  let bytes = 0;
  try {
    // Not destroyed when we stop early: the request must stay open for the 413 to reach the client.
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw tooLarge(maxBytes);
      hash.update(chunk);
      if (written.failure !== null) throw written.failure;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
  return { temp, sha256: hash.digest('hex'), bytes };
}

/** A staged upload becomes an input, named by its hash. */
export async function keepUpload(staged: StagedUpload, dir: DataDir): Promise<SavedUpload> {
  const path = dir.uploadPath(staged.sha256);
  await rename(staged.temp, path);
  return { path, sha256: staged.sha256, bytes: staged.bytes };
}

/** A staged upload of a refused request is removed. */
export async function dropUpload(staged: StagedUpload): Promise<void> {
  await rm(staged.temp, { force: true });
}

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(2)} KiB`;
  return `${bytes} bytes`;
}
