// The layers of src/ and the folders each may import (see docs/how-a-batch-runs.md, "Layout"). Entry points →
// the use case (batch/) → capabilities → core/config/logging. Each folder lists what it may import, and the
// lists form no cycle, so an upward import or a cycle between folders fails `npm run lint`.

/** The base every folder may use: no I/O in core; config reads the environment once; logging masks numbers. */
const BASE = ['config', 'core', 'logging'];
/** Capabilities, in an order that allows no cycle: metrics → output → history → queue; input and providers stand alone. */
const CAPABILITIES = ['queue', 'input', 'providers', 'output', 'history', 'metrics', 'notify'];
/** What the use case, and so every entry point, may use. */
const BELOW_BATCH = [...CAPABILITIES, ...BASE];

export const LAYERS = {
  // Entry points: parse what comes in, call the use case.
  cli: ['api', 'watch', 'schedule', 'batch', ...BELOW_BATCH],
  api: ['schedule', 'batch', ...BELOW_BATCH],
  watch: ['batch', ...BELOW_BATCH],
  schedule: ['batch', ...BELOW_BATCH],
  // The use case: one home for a batch's life.
  batch: BELOW_BATCH,
  metrics: ['output', 'history', 'queue', 'providers', ...BASE],
  output: ['history', 'input', ...BASE],
  history: ['queue', ...BASE],
  queue: BASE,
  // Webhooks out: events queued and delivered through BullMQ.
  notify: ['queue', ...BASE],
  input: BASE,
  providers: BASE,
  config: ['core', 'logging'],
  logging: ['core'],
  core: [],
  // The carrier simulator stands apart: it uses core only, and only the CLI's --simulate wiring loads it.
  simulator: ['core'],
};

/** The only production code that may import src/simulator: `--simulate` and `reachscan simulate`. */
export const SIMULATOR_WIRING = 'src/cli/simulate';
