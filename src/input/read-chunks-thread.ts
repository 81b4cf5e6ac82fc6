// The input's reading thread (see read-chunks.ts): reads and normalises a batch's input, and posts its chunks a
// few at a time, never more messages ahead than ingest has taken.
import { parentPort, workerData } from 'node:worker_threads';
import {
  chunksHere,
  type ReadChunk,
  type ThreadError,
  type ThreadInput,
  type ThreadMessage,
} from './read-chunks.js';

const input = workerData as ThreadInput;
const port = parentPort;
if (port === null) throw new Error('read-chunks-thread runs as a worker thread only');

let credit = input.messagesAhead;
let wake: (() => void) | null = null;
port.on('message', (granted: number) => {
  credit += granted;
  wake?.();
  wake = null;
});

const post = (message: ThreadMessage) => port.postMessage(message);

async function send(chunks: ReadChunk[]): Promise<void> {
  while (credit <= 0) await new Promise<void>((resolve) => (wake = resolve));
  credit--;
  post({ kind: 'chunks', chunks });
}

function describe(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, file } = error as { code?: unknown; file?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof file === 'string' ? { file } : {}),
  };
}

try {
  let batch: ReadChunk[] = [];
  for await (const [chunk] of chunksHere(input.source, input.fromIndex, input.size)) {
    if (chunk !== undefined) batch.push(chunk);
    if (batch.length < input.chunksPerMessage) continue;
    await send(batch);
    batch = [];
  }
  if (batch.length > 0) await send(batch);
  post({ kind: 'done' });
} catch (error) {
  post({ kind: 'failed', error: describe(error) });
}
// Done: nothing keeps the thread alive once its messages are out.
port.unref();
