import { quoted } from '../core/one-line.js';
import { ConfigError, ReachscanError, UsageError } from '../core/errors.js';
import { InputError } from '../input/errors.js';
import { runLookup } from './commands/lookup.js';
import { runPlan } from './commands/plan.js';
import { runReport } from './commands/report.js';
import { runScan } from './commands/scan.js';
import { runWorker } from './commands/worker.js';
import { runResume } from './commands/resume.js';
import { runQuota } from './commands/quota.js';
import { runSimulate } from './simulate/command.js';
import { runWatch, WATCH_HELP } from './commands/watch.js';
import { runSchedule, SCHEDULE_HELP } from './commands/schedule.js';
import { runServe, SERVE_HELP } from './commands/serve.js';
import { MONITOR_HELP, runMonitor } from './commands/monitor.js';
import { runForget, runHistory } from './commands/privacy.js';
import { runWebhooks, WEBHOOKS_HELP } from './commands/webhooks.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import {
  LOOKUP_HELP,
  MAIN_HELP,
  PLAN_HELP,
  REPORT_HELP,
  RESUME_HELP,
  SCAN_HELP,
  SIMULATE_HELP,
  WORKER_HELP,
  QUOTA_HELP,
  HISTORY_HELP,
  FORGET_HELP,
} from './help.js';
import { lineWriter, type CliIo } from './io.js';

const COMMANDS: Readonly<
  Record<string, { run: (argv: readonly string[], io: CliIo) => Promise<ExitCode>; help: string }>
> = {
  scan: { run: runScan, help: SCAN_HELP },
  plan: { run: runPlan, help: PLAN_HELP },
  report: { run: runReport, help: REPORT_HELP },
  worker: { run: runWorker, help: WORKER_HELP },
  resume: { run: runResume, help: RESUME_HELP },
  quota: { run: runQuota, help: QUOTA_HELP },
  lookup: { run: runLookup, help: LOOKUP_HELP },
  simulate: { run: runSimulate, help: SIMULATE_HELP },
  watch: { run: runWatch, help: WATCH_HELP },
  schedule: { run: runSchedule, help: SCHEDULE_HELP },
  serve: { run: runServe, help: SERVE_HELP },
  monitor: { run: runMonitor, help: MONITOR_HELP },
  history: { run: runHistory, help: HISTORY_HELP },
  forget: { run: runForget, help: FORGET_HELP },
  webhooks: { run: runWebhooks, help: WEBHOOKS_HELP },
};

/** The `reachscan` program. Returns the exit code; user mistakes become one clear line, never a stack trace. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    io.stdout.write(topic?.help ?? MAIN_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === 'version') {
    io.stdout.write(`${await version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`reachscan: unknown command ${quoted(name)} (try: reachscan help)\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): ExitCode {
  // Messages quote names, paths and values the user gave: each is written as the one line it is meant to be.
  const say = lineWriter(io.stderr, 'reachscan: ');
  if (error instanceof UsageError || error instanceof InputError) {
    say(error.message);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    for (const problem of error.problems) say(problem);
    return EXIT.infrastructure;
  }
  if (error instanceof ReachscanError) {
    say(error.message);
    return EXIT.infrastructure;
  }
  io.stderr.write(
    `reachscan: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.infrastructure;
}

function processIo(): CliIo {
  let stop: Promise<string> | null = null;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    // Installed only for commands that ask: the others keep Node's default, so Ctrl-C ends them at once.
    get stopSignal() {
      stop ??= new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      return stop;
    },
  };
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
