import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readNumberedBatches, recordGroups, validNumbers, type RecordSource } from './batch-records.js';
import { InputError } from './errors.js';

/** One chunk of a batch's input as ingest takes it: its distinct valid numbers, its records and where it ends. */
export interface ReadChunk {
  readonly numbers: readonly string[];
  /** Records in the chunk (rejects are not records). */
  readonly records: number;
  /** Bytes of the file read up to the end of the chunk's last record. */
  readonly bytes: number;
}

/** From this size up, a file is read and its numbers normalised on a thread of their own, when cores allow. */
export const THREAD_FROM_BYTES = 4 * 1024 * 1024;
/** Chunks the thread sends per message, and messages it may send ahead of what ingest has taken. */
const CHUNKS_PER_MESSAGE = 8;
const MESSAGES_AHEAD = 8;

/**
 * A batch's input `size` records at a time from record `fromIndex` on, as chunks. Reading and normalising are
 * most of ingest's work: on a large file with a core to spare they run on their own thread, so the one that
 * talks to Redis does not wait on them, and the other way round. Both ways read the same records the same way.
 */
export async function* readChunks(
  source: RecordSource,
  fromIndex: number,
  size: number,
  options: { thread?: 'by size' | 'always' | 'never' } = {},
): AsyncGenerator<readonly ReadChunk[]> {
  const thread = options.thread ?? 'by size';
  if (thread === 'always' || (thread === 'by size' && (await worthAThread(source.path))))
    yield* chunksFromThread(source, fromIndex, size);
  else yield* chunksHere(source, fromIndex, size);
}

async function worthAThread(path: string): Promise<boolean> {
  return availableParallelism() > 1 && (await stat(path)).size >= THREAD_FROM_BYTES;
}

/** The chunks of a source, read on the calling thread. Also what the reading thread runs. */
export async function* chunksHere(
  source: RecordSource,
  fromIndex: number,
  size: number,
): AsyncGenerator<ReadChunk[]> {
  for await (const group of recordGroups(readNumberedBatches(source, fromIndex), size)) {
    yield [{ numbers: validNumbers(group), records: group.length, bytes: group.at(-1)?.bytes ?? 0 }];
  }
}

/** What the reading thread posts. */
export type ThreadMessage =
  | { readonly kind: 'chunks'; readonly chunks: readonly ReadChunk[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly error: ThreadError };

/** An error as it crosses from the thread: what the batch's failure handling looks at. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly file?: string;
}

export interface ThreadInput {
  readonly source: RecordSource;
  readonly fromIndex: number;
  readonly size: number;
  readonly chunksPerMessage: number;
  readonly messagesAhead: number;
}

async function* chunksFromThread(
  source: RecordSource,
  fromIndex: number,
  size: number,
): AsyncGenerator<readonly ReadChunk[]> {
  const input: ThreadInput = {
    source,
    fromIndex,
    size,
    chunksPerMessage: CHUNKS_PER_MESSAGE,
    messagesAhead: MESSAGES_AHEAD,
  };
  const worker = new Worker(threadEntry(), { workerData: input });
  const inbox: (ThreadMessage | { kind: 'exit'; code: number } | { kind: 'crashed'; error: Error })[] = [];
  let wake: (() => void) | null = null;
  const deliver = (message: (typeof inbox)[number]) => {
    inbox.push(message);
    wake?.();
    wake = null;
  };
  worker.on('message', (message: ThreadMessage) => deliver(message));
  worker.on('error', (error) => deliver({ kind: 'crashed', error }));
  worker.on('exit', (code) => deliver({ kind: 'exit', code }));
  try {
    for (;;) {
      const message = inbox.shift();
      if (message === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (message.kind === 'done') return;
      if (message.kind === 'failed') throw rebuild(message.error);
      if (message.kind === 'crashed') throw message.error;
      if (message.kind === 'exit')
        throw new Error(`the input's reading thread stopped (exit code ${message.code})`);
      // Taken: the thread may send one message more.
      worker.postMessage(1);
      yield message.chunks;
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * The thread's entry next to this module: the .js file once built. Where the sources run as TypeScript through
 * tsx (tests, bench), a worker thread does not inherit tsx's loader, so a small module registers it first.
 */
function threadEntry(): URL {
  const extension = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./read-chunks-thread${extension}`, import.meta.url);
  if (extension !== '.ts') return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

/** The error the thread met, as the same kind of error here: an input error stays one, a file error keeps its code. */
function rebuild(error: ThreadError): Error {
  if (error.name === 'InputError' && error.file !== undefined) {
    const prefix = `${error.file}: `;
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new InputError(error.file, detail);
  }
  const rebuilt = new Error(error.message) as Error & { code?: string };
  rebuilt.name = error.name;
  if (error.code !== undefined) rebuilt.code = error.code;
  return rebuilt;
}
