import { UsageError } from '../../core/errors.js';
import { queuePrefix } from '../../config/settings.js';
import {
  closeWebhookQueues,
  listWebhookDeliveries,
  redeliverWebhook,
  type WebhookDelivery,
  type WebhookQueueContext,
} from '../../notify/events.js';
import { createRedis } from '../../queue/connection.js';
import { chooseRedis } from '../../queue/redis-choice.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { lineWriter, type CliIo } from '../io.js';

export const WEBHOOKS_HELP = `Usage: reachscan webhooks list [--failed] [--json]
       reachscan webhooks redeliver <id>

The delivery log of webhook events (see docs/webhooks.md): every event queued on this Redis and queue prefix,
kept 7 days once delivered and 30 days once failed.

  list        id, state (pending, delivered, failed), attempts, event type, receiver, batch, last error;
              newest first. --failed: only the deliveries that failed for good. --json: one JSON array.
  redeliver   sends the event again, with the same webhook-id and a fresh retry window: a reachscan worker
              (or serve, or a running scan) delivers it.

Redis: REDIS_URL; queues: REACHSCAN_QUEUE_PREFIX.
`;

/** `reachscan webhooks list|redeliver`. */
export async function runWebhooks(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(WEBHOOKS_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub === 'list') return webhooksList(rest, io);
  if (sub === 'redeliver') return webhooksRedeliver(rest, io);
  throw new UsageError(`webhooks: unknown subcommand "${sub}" (list or redeliver)`);
}

async function webhooksList(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    failed: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(WEBHOOKS_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`webhooks list takes no arguments (got "${positionals[0]}")`);
  return withQueue(io, async (context) => {
    const deliveries = await listWebhookDeliveries(context, { failed: values.failed });
    io.stdout.write(values.json ? `${JSON.stringify(deliveries, null, 2)}\n` : listText(deliveries));
    return EXIT.ok;
  });
}

async function webhooksRedeliver(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {});
  if (values.help) {
    io.stdout.write(WEBHOOKS_HELP);
    return EXIT.ok;
  }
  const [id] = positionals;
  if (id === undefined || positionals.length > 1)
    throw new UsageError('webhooks redeliver needs one delivery id: reachscan webhooks redeliver <id>');
  return withQueue(io, async (context) => {
    const outcome = await redeliverWebhook(context, id);
    if (outcome === 'unknown') throw new UsageError(`webhooks redeliver: no delivery ${id} in the log`);
    io.stdout.write(
      outcome === 'queued'
        ? `${id}: queued again for delivery\n`
        : `${id}: still pending, it is being tried already\n`,
    );
    return EXIT.ok;
  });
}

function listText(deliveries: readonly WebhookDelivery[]): string {
  if (deliveries.length === 0) return 'no webhook deliveries\n';
  const lines = deliveries.map((d) =>
    [
      d.id,
      d.state.padEnd(9),
      `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`,
      d.type,
      d.url,
      d.batch_id !== null ? `batch ${d.batch_id}` : '',
      d.created_at,
      d.last_error !== null && d.state !== 'delivered' ? `last error: ${d.last_error}` : '',
    ]
      .filter((part) => part !== '')
      .join('  '),
  );
  return `${lines.join('\n')}\n`;
}

async function withQueue(
  io: CliIo,
  use: (context: WebhookQueueContext) => Promise<ExitCode>,
): Promise<ExitCode> {
  const prefix = queuePrefix(io.env);
  const choice = await chooseRedis(io.env, false, lineWriter(io.stderr, 'reachscan webhooks: '));
  const redis = createRedis(choice.url, 'client');
  redis.on('error', () => {});
  try {
    return await use({ redis, prefix });
  } finally {
    await closeWebhookQueues(redis);
    await redis.quit().catch(() => redis.disconnect());
  }
}
