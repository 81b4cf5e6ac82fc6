import { resumePausedBatch } from '../../batch/resume.js';
import { UsageError } from '../../core/errors.js';
import { parseBudget } from '../../config/budget.js';
import { createRedis } from '../../queue/connection.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { RESUME_HELP } from '../help.js';
import { lineWriter, type CliIo } from '../io.js';
import { chooseRedis } from '../../queue/redis-choice.js';
import { queuePrefix } from '../../config/settings.js';

/** `reachscan resume <batch-id>`: lifts the error-ratio breaker's pause of a batch. */
export async function runResume(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, { budget: { type: 'string' } });
  if (values.help) {
    io.stdout.write(RESUME_HELP);
    return EXIT.ok;
  }
  const [batchId, ...extra] = positionals;
  if (batchId === undefined || extra.length > 0)
    throw new UsageError('resume needs exactly one batch id: reachscan resume <batch-id>');
  if (!/^[0-9a-f]{24}$/.test(batchId))
    throw new UsageError(`"${batchId}" is not a batch id (24 hex digits, as scan prints)`);
  const budget = values.budget === undefined ? undefined : parseBudget(values.budget);
  const choice = await chooseRedis(io.env, false, lineWriter(io.stderr, 'reachscan resume: '));
  const redis = createRedis(choice.url, 'client');
  redis.on('error', () => {});
  try {
    const result = await resumePausedBatch(redis, queuePrefix(io.env), batchId, budget);
    if (result.kind === 'unknown') {
      io.stderr.write(`reachscan: no batch ${batchId} in this Redis (or it finished over a day ago)\n`);
      return EXIT.usage;
    }
    if (result.kind === 'bad-budget') {
      io.stderr.write(`reachscan: ${result.reason}\n`);
      return EXIT.usage;
    }
    if (result.kind === 'not-paused') {
      io.stderr.write(`reachscan: batch ${batchId} is ${result.state}, not paused: nothing to resume\n`);
      return EXIT.usage;
    }
    // The reason up to what to do about it, which the user has just done.
    const why = result.reason.split(/; | — /)[0];
    const reasked =
      result.reasked > 0 ? `; ${result.reasked} numbers refused before the pause are asked again` : '';
    io.stdout.write(
      `resumed batch ${batchId} (it was paused: ${why}); ${result.chunks} chunk jobs back in the queue${reasked}\n`,
    );
    return EXIT.ok;
  } finally {
    await redis.quit().catch(() => undefined);
  }
}
