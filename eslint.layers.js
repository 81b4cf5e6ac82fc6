// The layers of src/ and the folders each may import (see docs/how-a-batch-runs.md, "Layout"). Entry points →
// the use case (batch/) → capabilities → core/config/logging. Each folder lists what it may import, and the
// lists form no cycle, so an upward import or a cycle between folders fails `npm run lint`.
export const LAYERS = {
  // Entry points: parse what comes in, call the use case.
  cli: [
    'api',
    'watch',
    'schedule',
    'batch',
    'queue',
    'input',
    'providers',
    'output',
    'history',
    'metrics',
    'config',
    'core',
    'logging',
  ],
  api: [
    'schedule',
    'batch',
    'queue',
    'input',
    'providers',
    'output',
    'history',
    'metrics',
    'config',
    'core',
    'logging',
  ],
  watch: [
    'batch',
    'queue',
    'input',
    'providers',
    'output',
    'history',
    'metrics',
    'config',
    'core',
    'logging',
  ],
  schedule: [
    'batch',
    'queue',
    'input',
    'providers',
    'output',
    'history',
    'metrics',
    'config',
    'core',
    'logging',
  ],
  // The use case: one home for a batch's life.
  batch: ['queue', 'input', 'providers', 'output', 'history', 'metrics', 'config', 'core', 'logging'],
  // Capabilities, in an order that allows no cycle: metrics → output → history → queue; input and providers stand alone.
  metrics: ['output', 'history', 'queue', 'providers', 'config', 'core', 'logging'],
  output: ['history', 'input', 'config', 'core', 'logging'],
  history: ['queue', 'config', 'core', 'logging'],
  queue: ['config', 'core', 'logging'],
  input: ['config', 'core', 'logging'],
  providers: ['config', 'core', 'logging'],
  // The base: no I/O in core; config reads the environment once; logging masks numbers.
  config: ['core', 'logging'],
  logging: ['core'],
  core: [],
  // The carrier simulator stands apart: it uses core only, and only the CLI's --simulate wiring loads it.
  simulator: ['core'],
};

/** The only production code that may import src/simulator: `--simulate` and `reachscan simulate`. */
export const SIMULATOR_WIRING = 'src/cli/simulate';
