// B4's stand-in for the lookup workers, in its own process so its work is not counted as ingest's: takes each
// chunk job and completes it at once. Usage: node drain-chunks.mjs <redis-url> <prefix> <queue>
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, prefix, queue] = process.argv.slice(2);
const worker = new Worker(queue, () => Promise.resolve({ answered: 0 }), {
  connection: new Redis(url, { maxRetriesPerRequest: null }),
  prefix,
  concurrency: 50,
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
