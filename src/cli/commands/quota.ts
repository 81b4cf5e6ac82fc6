import { readQuota } from '../../config/quota.js';
import { queuePrefix } from '../../config/settings.js';
import { systemClock } from '../../core/clock.js';
import { UsageError } from '../../core/errors.js';
import { localDateTime, timeLeft } from '../../core/quota-day.js';
import { formatCount } from '../../output/format.js';
import { createRedis } from '../../queue/connection.js';
import { readQuotaUsage, type QuotaUsage } from '../../queue/quota.js';
import { chooseRedis } from '../../queue/redis-choice.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { QUOTA_HELP } from '../help.js';
import { lineWriter, type CliIo } from '../io.js';

/** `reachscan quota [--json]`: today's upstream requests per provider, every worker together, and what is left. */
export async function runQuota(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean', default: false } });
  if (values.help) {
    io.stdout.write(QUOTA_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`quota takes no arguments (got "${positionals[0]}")`);
  const settings = readQuota(io.env);
  const choice = await chooseRedis(io.env, false, lineWriter(io.stderr, 'reachscan quota: '));
  const redis = createRedis(choice.url, 'client');
  redis.on('error', () => {});
  try {
    const now = (io.clock ?? systemClock)();
    const usage = await readQuotaUsage(redis, queuePrefix(io.env), settings, now);
    io.stdout.write(values.json ? `${JSON.stringify(quotaJson(usage), null, 2)}\n` : quotaTable(usage, now));
    return EXIT.ok;
  } finally {
    await redis.quit().catch(() => undefined);
  }
}

/** `quota --json`: snake_case like report.json; times as ISO 8601 (UTC) and as the zone's local time. */
export function quotaJson(usage: QuotaUsage) {
  return {
    time_zone: usage.timeZone,
    day: usage.day,
    resets_at: new Date(usage.resetsAt).toISOString(),
    resets_at_local: `${localDateTime(usage.resetsAt, usage.timeZone)} ${usage.timeZone}`,
    providers: usage.providers.map((p) => ({
      provider: p.provider,
      used: p.used,
      left: p.left,
      limit: p.limit,
    })),
  };
}

/** One line per provider: used, left and limit ("-" without a quota), and when the day resets. */
export function quotaTable(usage: QuotaUsage, now: number): string {
  const resets = `${localDateTime(usage.resetsAt, usage.timeZone)} ${usage.timeZone} (in ${timeLeft(usage.resetsAt - now)})`;
  const header = ['provider', 'used', 'left', 'limit', 'resets at'];
  const count = (n: number | null) => (n === null ? '-' : formatCount(n));
  const rows = usage.providers.map((p) => [p.provider, count(p.used), count(p.left), count(p.limit), resets]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : i > 0 && i < 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const day = `requests sent on ${usage.day} (${usage.timeZone}), every worker together; "-": no quota (REACHSCAN_DAILY_QUOTA)`;
  return `${[line(header), ...rows.map(line), '', day].join('\n')}\n`;
}
