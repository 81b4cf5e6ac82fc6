import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/queue/private-redis.js';

const run = promisify(execFile);

export interface LocalCluster {
  /** REDIS_URL for reachscan: every master's URL, comma-separated. */
  readonly url: string;
  readonly nodes: readonly RedisServerHandle[];
  stop(): Promise<void>;
}

/**
 * A local Redis Cluster of `masters` cluster-enabled redis-servers (no replicas), joined with
 * `redis-cli --cluster create`, returned once every slot is served and the cluster state is ok.
 */
export async function startLocalCluster(masters = 3): Promise<LocalCluster> {
  const nodes: RedisServerHandle[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedisServer({
          extraArgs: async () => [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            // The bus port defaults to port + 10000, which may be taken or past 65535: ask for a free one.
            '--cluster-port',
            String(await freePort()),
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const url = nodes.map((n) => n.url).join(',');
    await waitForClusterOk(nodes);
    return { url, nodes, stop: () => stopAll(nodes) };
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

async function waitForClusterOk(nodes: readonly RedisServerHandle[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(
      nodes.map(async (n) => (await run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])).stdout),
    );
    if (states.every((s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s))) {
      // Every node agrees; check a client sees the full slot map too.
      const probe = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
      try {
        await probe.set('{probe}:ready', '1');
        await probe.del('{probe}:ready');
        return;
      } finally {
        probe.disconnect();
      }
    }
    if (Date.now() > deadline) throw new Error(`cluster did not become ok:\n${states.join('\n')}`);
    await sleep(200);
  }
}

async function stopAll(nodes: readonly RedisServerHandle[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}
