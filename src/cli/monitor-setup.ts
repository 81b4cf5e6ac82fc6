import type { MonitorDeps } from '../batch/monitor.js';
import { camaraConfigured, loadCamaraConfig } from '../config/camara.js';
import type { Env } from '../config/env.js';
import { publicUrl } from '../config/monitor.js';
import { historyOptions, queuePrefix } from '../config/settings.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import { createCamaraSubscriptions } from '../providers/create-provider.js';
import type { RedisClient } from '../queue/connection.js';

/**
 * Push monitoring's dependencies from the environment: the CAMARA settings and REACHSCAN_PUBLIC_URL, both
 * required (`required`), or null when either is missing (serve then answers 503 at /events/camara).
 */
export function monitorDepsFromEnv(
  env: Env,
  context: { redis: RedisClient; logger: Logger; clock: Clock; ratePerSecond: number },
  required: boolean,
): MonitorDeps | null {
  const url = publicUrl(env);
  if (!camaraConfigured(env) || url === null) {
    if (!required) return null;
    throw new ConfigError([
      url === null
        ? "REACHSCAN_PUBLIC_URL is required: the address the operator posts events to (serve's /events/camara)"
        : 'push monitoring needs the CAMARA_* settings (see docs/camara.md)',
    ]);
  }
  const config = loadCamaraConfig(env);
  return {
    redis: context.redis,
    history: historyOptions(env, false),
    queuePrefix: queuePrefix(env),
    client: createCamaraSubscriptions(config, { logger: context.logger, clock: context.clock }),
    publicUrl: url,
    ratePerSecond: context.ratePerSecond,
    clock: context.clock,
    logger: context.logger,
  };
}
