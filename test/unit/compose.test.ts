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
  restart?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string; required?: boolean; restart?: boolean }>;
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The demo's env file: `NAME=value` lines, `#` comments. */
const demoEnv: Record<string, string> = Object.fromEntries(
  readFileSync(join(ROOT, '.env.demo'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/**
 * A value as Compose interpolates it with `env`: `${NAME}`, `${NAME:-default}` and `${NAME:?message}` (which
 * fails, as Compose does, when NAME is unset or empty).
 */
function interpolate(value: string, env: Readonly<Record<string, string>> = {}): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

/** `--name=value` from a command line. */
function flag(args: readonly string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
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

  it('restarts every service that stops, short of a deliberate stop', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(['unless-stopped', 'always', 'on-failure'], name).toContain(service.restart);
    }
  });

  it('lets the worker scale: no fixed container name, no host port', () => {
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
    expect(services.worker?.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('starts the demo workers only once the simulator has written its key and answers', () => {
    const dependency = services.worker?.depends_on?.simulator;
    expect(dependency?.condition).toBe('service_healthy');
    // Without the demo profile there is no simulator: that must not stop a deployment.
    expect(dependency?.required).toBe(false);
    // The simulator makes a new key each start: the workers must read it again.
    expect(dependency?.restart).toBe(true);

    const probe = (services.simulator?.healthcheck?.test ?? []).join(' ');
    const simArgs = services.simulator?.command ?? [];
    expect(probe).toContain(flag(simArgs, 'key-out'));
    expect(probe).toContain(`http://127.0.0.1:${flag(simArgs, 'port')}/_sim/stats`);
  });

  it('gives api and workers one data volume at /data that the image user can write', () => {
    const mounts = ['api', 'worker'].map((name) => {
      const mount = services[name]?.volumes?.find((v) => v.endsWith(':/data'));
      expect(mount, name).toBeDefined();
      expect(services[name]?.environment?.REACHSCAN_DATA_DIR, name).toBe('/data');
      return mount ?? '';
    });
    expect(mounts[0]).toBe(mounts[1]);
    // A named volume by default: it starts owned like the image's /data. A host folder that Docker would
    // create as root (./data) is not the default.
    const source = interpolate(mounts[0] ?? '').split(':')[0] ?? '';
    expect(source).toMatch(/^\w[\w.-]*$/);
    expect(Object.keys(compose.volumes)).toContain(source);
  });

  it('wires api and workers to the same Redis, and the demo workers to the simulator and its key', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name]?.environment?.REDIS_URL, name).toBe('redis://redis:6379');
    }
    const worker = services.worker?.environment ?? {};
    const simArgs = services.simulator?.command ?? [];
    expect(interpolate(worker.VONAGE_API_BASE_URL ?? '', demoEnv)).toBe(
      `http://simulator:${flag(simArgs, 'port')}`,
    );
    expect(flag(simArgs, 'key-out')).toBe(worker.VONAGE_PRIVATE_KEY_PATH);
    const appId = interpolate(worker.VONAGE_APPLICATION_ID ?? '', demoEnv);
    expect(appId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(interpolate(flag(simArgs, 'application-id') ?? '', demoEnv)).toBe(appId);
    expect(demoEnv.COMPOSE_PROFILES).toBe('demo');
    // The simulator writes the key into the volume the workers read it from (read-only).
    expect(services.simulator?.volumes).toContain('keys:/keys');
    expect(services.worker?.volumes).toContain('${REACHSCAN_KEYS:-keys}:/keys:ro');
  });

  it('makes a deployment name its Vonage application: no made-up default, no simulator outside the demo', () => {
    const worker = services.worker?.environment ?? {};
    expect(() => interpolate(worker.VONAGE_APPLICATION_ID ?? '')).toThrow(/VONAGE_APPLICATION_ID/);
    expect(composeText).not.toMatch(/\$\{VONAGE_APPLICATION_ID(:-|-)/);
    // Unset, the base URL is empty, which reachscan reads as its Vonage default.
    expect(interpolate(worker.VONAGE_API_BASE_URL ?? '')).toBe('');
    // The API queues work and never calls the carrier.
    expect(Object.keys(services.api?.environment ?? {}).filter((k) => k.startsWith('VONAGE_'))).toEqual([]);
  });

  it('requires an API token instead of shipping a default one', () => {
    expect(services.api?.environment?.REACHSCAN_API_TOKEN).toMatch(/^\$\{REACHSCAN_API_TOKEN:\?/);
  });

  it('declares every named volume it mounts', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of service.volumes ?? []) {
        const source = interpolate(mount).split(':')[0] ?? '';
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `${name}: ${mount}`).toContain(source);
        }
      }
    }
  });

  // Where Docker Compose v2 is installed, its own validation must pass too.
  const hasCompose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.runIf(hasCompose)('passes `docker compose config`, and refuses to run without an application id', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, REACHSCAN_API_TOKEN: 'test-token-0123456789' };
    delete env.VONAGE_APPLICATION_ID;
    execFileSync('docker', ['compose', '--env-file', '.env.demo', 'config', '--quiet'], { cwd: ROOT, env });
    execFileSync('docker', ['compose', 'config', '--quiet'], {
      cwd: ROOT,
      env: { ...env, VONAGE_APPLICATION_ID: '4a1b2c3d-0000-4000-8000-000000000000' },
    });
    const bare = spawnSync('docker', ['compose', 'config', '--quiet'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/VONAGE_APPLICATION_ID/);
  });
});

describe('Dockerfile', () => {
  it('builds every command into one image that runs as node, with /keys and /data its own', () => {
    expect(dockerfile).not.toMatch(/as they arrive|simulator now/i);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/mkdir -p \/keys \/data && chown node:node \/keys \/data/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/reachscan\.js"\]$/m);
  });

  it('copies what npm ci needs for postinstall (patches/) and prepare (tsconfig, src)', () => {
    // The sources of the build stage's COPY lines.
    const copied = dockerfile
      .split('\n')
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from'))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'patches',
    ]) {
      expect(copied).toContain(path);
    }
    expect(copied).toEqual(expect.arrayContaining(['bin', 'src']));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.prepare).toMatch(/build/);
    // The runtime stage gets node_modules with the dev dependencies pruned.
    expect(dockerfile).toMatch(/npm ci\b[^\n]*&& npm prune --omit=dev/);
  });

  it('keeps what is big or secret out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.git', '.env', '**/*.key']) {
      expect(ignored, entry).toContain(entry);
    }
  });
});
