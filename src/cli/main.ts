import { quoted } from '../core/one-line.js';
import { ConfigError, ReachscanError, UsageError } from '../core/errors.js';
import { InputError } from '../input/errors.js';
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

type RunCommand = (argv: readonly string[], io: CliIo) => Promise<ExitCode>;

/**
 * A command's code is loaded when it runs, not with the program: each brings its own packages (the API server,
 * the browser console's, schedules'), and a worker or a scan loaded them all for nothing (about 20 MB each and a
 * slower start).
 */
interface Command {
  load(): Promise<RunCommand>;
  help(): Promise<string>;
}

const text = (help: string) => () => Promise.resolve(help);

const COMMANDS: Readonly<Record<string, Command>> = {
  scan: { load: async () => (await import('./commands/scan.js')).runScan, help: text(SCAN_HELP) },
  plan: { load: async () => (await import('./commands/plan.js')).runPlan, help: text(PLAN_HELP) },
  report: { load: async () => (await import('./commands/report.js')).runReport, help: text(REPORT_HELP) },
  worker: { load: async () => (await import('./commands/worker.js')).runWorker, help: text(WORKER_HELP) },
  resume: { load: async () => (await import('./commands/resume.js')).runResume, help: text(RESUME_HELP) },
  quota: { load: async () => (await import('./commands/quota.js')).runQuota, help: text(QUOTA_HELP) },
  lookup: { load: async () => (await import('./commands/lookup.js')).runLookup, help: text(LOOKUP_HELP) },
  simulate: {
    load: async () => (await import('./simulate/command.js')).runSimulate,
    help: text(SIMULATE_HELP),
  },
  watch: {
    load: async () => (await import('./commands/watch.js')).runWatch,
    help: async () => (await import('./commands/watch.js')).WATCH_HELP,
  },
  schedule: {
    load: async () => (await import('./commands/schedule.js')).runSchedule,
    help: async () => (await import('./commands/schedule.js')).SCHEDULE_HELP,
  },
  serve: {
    load: async () => (await import('./commands/serve.js')).runServe,
    help: async () => (await import('./commands/serve.js')).SERVE_HELP,
  },
  monitor: {
    load: async () => (await import('./commands/monitor.js')).runMonitor,
    help: async () => (await import('./commands/monitor.js')).MONITOR_HELP,
  },
  history: { load: async () => (await import('./commands/privacy.js')).runHistory, help: text(HISTORY_HELP) },
  forget: { load: async () => (await import('./commands/privacy.js')).runForget, help: text(FORGET_HELP) },
  webhooks: {
    load: async () => (await import('./commands/webhooks.js')).runWebhooks,
    help: async () => (await import('./commands/webhooks.js')).WEBHOOKS_HELP,
  },
};

/** The `reachscan` program. Returns the exit code; user mistakes become one clear line, never a stack trace. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    io.stdout.write(topic === undefined ? MAIN_HELP : await topic.help());
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
    const run = await command.load();
    return await run(rest, io);
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
