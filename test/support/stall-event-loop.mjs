// Preloaded into a reachscan process by tests (`NODE_OPTIONS=--import=<this file>`), never by reachscan itself:
// it blocks the process's event loop now and then, as a long GC pause or a CPU-bound neighbour would, so that
// timers fire late and replies are read late. TEST_STALL_MAX_MS (default 150) is the longest stall;
// TEST_STALL_GAP_MS (default 250) the longest time between two.
import { setTimeout } from 'node:timers';

const maxMs = Number(process.env.TEST_STALL_MAX_MS ?? 150);
const gapMs = Number(process.env.TEST_STALL_GAP_MS ?? 250);

function next() {
  setTimeout(() => {
    const until = Date.now() + Math.random() * maxMs;
    while (Date.now() < until) {
      // busy: the stall
    }
    next();
  }, Math.random() * gapMs).unref();
}
next();
