/** Entry of a verify worker thread (see verify-pool.ts): checks batches of signed readings. */
import { parentPort } from 'node:worker_threads';
import { checkBatch, KeyCache, type VerifyBatch } from './verify-work.ts';

const cache = new KeyCache();
const port = parentPort;
if (!port) throw new Error('verify-worker.ts must run as a worker thread');
port.on('message', (batch: VerifyBatch) => {
  port.postMessage(checkBatch(batch, cache));
});
port.postMessage({ ready: true });
