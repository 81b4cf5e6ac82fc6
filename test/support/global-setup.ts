import type { TestProject } from 'vitest/node';
import './provided-context.js';
import { startRedisServer } from '../../src/queue/private-redis.js';
import { buildOnce } from './build.js';

/**
 * Integration set-up: a real Redis (REDIS_URL, else a private redis-server on a free port, stopped afterwards),
 * and a fresh build so end-to-end tests run the real `reachscan` program on the current sources.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildOnce();
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') {
    project.provide('redisUrl', fromEnv);
    project.provide('redisIsPrivate', false);
    return async () => {};
  }
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  project.provide('redisIsPrivate', true);
  return () => redis.stop();
}
