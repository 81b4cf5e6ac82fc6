import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;

/** A value as Compose reads it with nothing set in the environment: `${NAME:-default}` → default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
}

describe('docker-compose.yml', () => {
  it('runs redis, api and worker by default, and the simulator only under the demo profile', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'redis', 'simulator', 'worker']);
    expect(services.simulator?.profiles).toEqual(['demo']);
    for (const name of ['redis', 'api', 'worker']) expect(services[name]?.profiles, name).toBeUndefined();
    expect(services.api?.command?.[0]).toBe('serve');
    expect(services.worker?.command).toEqual(['worker']);
    expect(services.simulator?.command?.[0]).toBe('simulate');
  });

  it('lets the worker scale: no fixed container name, no host port', () => {
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
    // Its dependency on the simulator must not break a deployment without the demo profile.
    expect(services.worker?.depends_on?.simulator?.required).toBe(false);
    expect(services.worker?.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('wires api and workers to the same Redis and data folder, and the demo workers to the simulator and its key', () => {
    for (const name of ['api', 'worker']) {
      const env = services[name]?.environment ?? {};
      expect(env.REDIS_URL, name).toBe('redis://redis:6379');
      expect(env.REACHSCAN_DATA_DIR, name).toBe('/data');
      expect(services[name]?.volumes, name).toContain('./data:/data');
    }
    const worker = services.worker?.environment ?? {};
    const simArgs = services.simulator?.command ?? [];
    const port = simArgs.find((a) => a.startsWith('--port='))?.split('=')[1];
    expect(withDefaults(worker.VONAGE_API_BASE_URL ?? '')).toBe(`http://simulator:${port}`);
    const keyOut = simArgs.find((a) => a.startsWith('--key-out='))?.split('=')[1];
    expect(keyOut).toBe(worker.VONAGE_PRIVATE_KEY_PATH);
    const appId = simArgs.find((a) => a.startsWith('--application-id='))?.split('=')[1] ?? '';
    expect(withDefaults(appId)).toBe(withDefaults(worker.VONAGE_APPLICATION_ID ?? ''));
    // The simulator writes the key into the volume the workers read it from (read-only).
    expect(services.simulator?.volumes).toContain('keys:/keys');
    expect(services.worker?.volumes).toContain('${REACHSCAN_KEYS:-keys}:/keys:ro');
  });

  it('requires an API token instead of shipping a default one', () => {
    expect(services.api?.environment?.REACHSCAN_API_TOKEN).toMatch(/^\$\{REACHSCAN_API_TOKEN:\?/);
  });

  it('declares every named volume it mounts', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of service.volumes ?? []) {
        const source = withDefaults(mount).split(':')[0] ?? '';
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `${name}: ${mount}`).toContain(source);
        }
      }
    }
  });

  // Where Docker Compose v2 is installed, its own validation must pass too.
  const hasCompose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.runIf(hasCompose)('passes `docker compose config`', () => {
    for (const profile of [[], ['--profile', 'demo']]) {
      execFileSync('docker', ['compose', ...profile, 'config', '--quiet'], {
        cwd: ROOT,
        env: { ...process.env, REACHSCAN_API_TOKEN: 'test-token' },
      });
    }
  });
});
