import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, startSimulatorProcess } from '../support/simulator-process.js';

const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'fixtures', name);
/** The README's main job on the sample export, into `out`. */
const sampleScan = (out: string) => [
  'scan',
  fixture('crm-export.csv'),
  '--out',
  out,
  '--simulate',
  '--default-country',
  'GB',
];
const outDir = () => mkdtempSync(join(tmpdir(), 'reachscan-e2e-'));

/** Runs the real program; resolves with its exit code and output. */
function reachscan(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: inject('redisUrl'),
      REACHSCAN_QUEUE_PREFIX: `e2e-${randomUUID()}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

function simEnv(stdout: string): Record<string, string> {
  return Object.fromEntries(
    [...stdout.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  );
}

describe('reachscan scan (subprocess)', () => {
  it('Ctrl-C stops at once (exit 130); the same command resumes, asking no number twice', async () => {
    const sim = await startSimulatorProcess(['--latency-ms', '20']);
    try {
      const { writeFileSync } = await import('node:fs');
      const input = join(outDir(), 'fleet.csv');
      const lines = Array.from({ length: 3000 }, (_, i) => `${i},+4474${String(i).padStart(8, '0')}`);
      writeFileSync(input, ['id,msisdn', ...lines].join('\n'));
      const out = outDir();
      const env = { ...simEnv(sim.stdout()), REACHSCAN_QUEUE_PREFIX: `e2e-${randomUUID()}` };
      const args = ['scan', input, '--out', out, '--concurrency', '8'];
      const first = reachscan(args, env);
      const stats = async () =>
        (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
          requests: number;
          byNumber: Record<string, number>;
        };
      await expect
        .poll(async () => (await stats()).requests, { timeout: 20_000, interval: 100 })
        .toBeGreaterThan(300);
      const stoppedAt = Date.now();
      first.child.kill('SIGINT');
      const interrupted = await first.done;
      expect(interrupted.code).toBe(130);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(interrupted.stderr).toContain('run the same command again to resume');
      const askedBefore = (await stats()).requests;
      expect(askedBefore).toBeLessThan(3000);

      const second = await reachscan(args, env).done;
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('resuming batch');
      const after = await stats();
      expect(Object.keys(after.byNumber)).toHaveLength(3000);
      expect(Object.values(after.byNumber).every((n) => n === 1)).toBe(true);
      const ids = readFileSync(join(out, 'results.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]);
      expect(ids).toEqual(lines.map((_, i) => String(i)));
    } finally {
      await sim.stop();
    }
  });

  it('the README main job: --simulate on the sample export, a summary, outputs; its bad cells exit 0, or 1 with --strict', async () => {
    const out = outDir();
    const r = await reachscan(sampleScan(out)).done;
    // Two bad cells (an invalid number, an Excel-mangled one) are findings; every valid number was answered.
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^12 rows → .*results\.csv$/m);
    expect(r.stdout).toMatch(/^ {2}numbers: 10 valid .*, 2 invalid, 0 malformed records → rejects\.csv$/m);
    expect(r.stdout).toMatch(/^ {2}lookups failed: 0; report: /m);
    expect(r.stderr).toContain('using the built-in simulator');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { rows: { total: number } };
    expect(report).toMatchObject({
      rows: { total: 12 },
      invalid_numbers: 2,
      malformed_records: 0,
      lookups_failed: 0,
    });
    const strict = await reachscan([...sampleScan(outDir()), '--strict']).done;
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stdout).toMatch(/^12 rows → /m);
  });

  it('run twice on one Redis: the second run compares with the first, --max-age answers from the history', async () => {
    const env = { REACHSCAN_QUEUE_PREFIX: `e2e-${randomUUID()}` };
    const first = await reachscan(sampleScan(outDir()), env).done;
    expect(first.stdout).toContain('changes: none of these numbers had been checked before');
    const plan = await reachscan(
      ['plan', fixture('crm-export.csv'), '--simulate', '--default-country', 'GB', '--max-age', '24h'],
      env,
    ).done;
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/unique numbers: +9$/m);
    expect(plan.stdout).toMatch(/to ask the carrier: 0$/m);
    const again = await reachscan(sampleScan(outDir()), env).done;
    expect(again.stdout).toMatch(/changed since the previous check: 0 of 10 rows/);
    const out = outDir();
    const cached = await reachscan([...sampleScan(out), '--max-age', '24h'], env).done;
    expect(cached.stdout).toMatch(/answered from the history \(--max-age\): 10 rows, asked live: 0/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');

    const dry = await reachscan([...sampleScan(outDir()), '--dry-run', '--rate', '2'], env).done;
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/upstream requests: +9 \(1 per number\)/);
    expect(dry.stdout).toMatch(/about 5 s at 2 requests\/s/);

    const rebuilt = outDir();
    const report = await reachscan([
      'report',
      join(out, 'results.csv'),
      '--out',
      rebuilt,
      '--stale-days',
      '30',
    ]).done;
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(rebuilt, 'no-connectivity-30d.csv'), 'utf8')).toContain('+990123444');
    const notOurs = await reachscan(['report', fixture('crm-export.csv')]).done;
    expect(notOurs.code).toBe(2);
    expect(notOurs.stderr.trim()).toMatch(/^reachscan: crm-export\.csv: is not a reachscan results file/);
  });

  it('--provider device-status agrees with identity-insights on every row where both carry the same facts', async () => {
    const runs = await Promise.all(
      (['identity-insights', 'device-status'] as const).map(async (provider) => {
        const out = outDir();
        const args = [...sampleScan(out), '--provider', provider];
        const r = await reachscan(args).done;
        expect(r.code, r.stderr).toBe(0);
        const { parse } = await import('csv-parse/sync');
        return parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
      }),
    );
    const [ii, ds] = runs as [Record<string, string>[], Record<string, string>[]];
    expect(ds).toHaveLength(ii.length);
    let compared = 0;
    ii.forEach((a, i) => {
      const b = ds[i] as Record<string, string>;
      expect(b.customer_id).toBe(a.customer_id);
      if (a.reachability_status === 'OK' && b.reachability_status === 'OK') {
        expect([b.reachable, (b.connectivity ?? '').includes('DATA')], a.phone_e164).toEqual([
          a.reachable,
          (a.connectivity ?? '').includes('DATA'),
        ]);
        compared++;
      }
      if (a.roaming_status === 'OK' && b.roaming_status === 'OK') {
        expect([b.roaming, b.roaming_countries], a.phone_e164).toEqual([a.roaming, a.roaming_countries]);
      }
      expect(b.last_status_at).toBe(''); // Device Status v0.5.0 gives no time
    });
    expect(compared).toBeGreaterThanOrEqual(5);
  });

  it('--provider camara agrees with identity-insights on every row where both carry the same facts', async () => {
    const runs = await Promise.all(
      (['identity-insights', 'camara'] as const).map(async (provider) => {
        const out = outDir();
        const r = await reachscan([...sampleScan(out), '--provider', provider]).done;
        expect(r.code, r.stderr).toBe(0);
        const { parse } = await import('csv-parse/sync');
        return parse<Record<string, string>>(readFileSync(join(out, 'results.csv')), { columns: true });
      }),
    );
    const [ii, cm] = runs as [Record<string, string>[], Record<string, string>[]];
    expect(cm).toHaveLength(ii.length);
    let reachability = 0;
    let roaming = 0;
    ii.forEach((a, i) => {
      const b = cm[i] as Record<string, string>;
      expect([b.customer_id, b.phone_e164]).toEqual([a.customer_id, a.phone_e164]);
      if (a.reachability_status === 'OK' && b.reachability_status === 'OK') {
        // CAMARA v1 says which channels work, as Identity Insights does: the whole list agrees.
        expect([b.reachable, b.connectivity], a.phone_e164).toEqual([a.reachable, a.connectivity]);
        if (a.last_status_at !== '') expect(b.last_status_at, a.phone_e164).toBe(a.last_status_at);
        reachability++;
      }
      if (a.roaming_status === 'OK' && b.roaming_status === 'OK') {
        expect([b.roaming, b.roaming_countries], a.phone_e164).toEqual([a.roaming, a.roaming_countries]);
        roaming++;
      }
      if (b.phone_e164 !== '') expect(b.request_id, a.phone_e164).toMatch(/^[0-9a-f-]{36}$/);
    });
    expect(reachability).toBeGreaterThanOrEqual(5);
    expect(roaming).toBeGreaterThanOrEqual(5);
  });

  it('reachscan simulate prints the CAMARA_* environment; lookup --provider camara uses it in each auth mode', async () => {
    const sim = await startSimulatorProcess(['--camara-shape', 'v1.0']);
    try {
      const env = simEnv(sim.stdout());
      expect(
        Object.keys(env)
          .filter((k) => k.startsWith('CAMARA_'))
          .sort(),
      ).toEqual([
        'CAMARA_API_BASE_URL',
        'CAMARA_API_KEY',
        'CAMARA_AUTH',
        'CAMARA_AUTHORIZE_URL',
        'CAMARA_CLIENT_ID',
        'CAMARA_CLIENT_SECRET',
        'CAMARA_TOKEN_URL',
      ]);
      for (const auth of ['client-credentials', 'ciba', 'api-key']) {
        const r = await reachscan(['lookup', '--provider', 'camara', '--json', '+990123400', '+990123444'], {
          ...env,
          CAMARA_AUTH: auth,
        }).done;
        expect(r.code, r.stderr).toBe(0);
        const rows = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, string>);
        expect(rows.map((row) => [row.reachable, row.connectivity, row.roaming_countries])).toEqual([
          ['true', 'DATA;SMS', 'GB'],
          ['false', '', 'GB'],
        ]);
      }
      await fetch(`${sim.url}/_sim/dials`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ camaraError: 'QUOTA_EXCEEDED' }),
      });
      // plan counts by CAMARA_AUTH: 2 requests a number with client credentials, 4 with CIBA.
      for (const [auth, perNumber] of [
        ['client-credentials', 2],
        ['ciba', 4],
      ] as const) {
        const plan = await reachscan(
          ['plan', fixture('crm-export.csv'), '--provider', 'camara', '--default-country', 'GB', '--json'],
          { CAMARA_AUTH: auth },
        ).done;
        expect(plan.code, plan.stderr).toBe(0);
        expect((JSON.parse(plan.stdout) as { requests_per_number: number }).requests_per_number).toBe(
          perNumber,
        );
      }
      const quota = await reachscan(['lookup', '--provider', 'camara', '+990123400'], env).done;
      expect(quota.code).toBe(3);
      expect(quota.stderr.trim()).toMatch(
        /^reachscan: the operator's quota is used up \(HTTP 429 QUOTA_EXCEEDED/,
      );
    } finally {
      await sim.stop();
    }
  });

  it('exit 0 when every row is answered', async () => {
    const r = await reachscan([
      'scan',
      fixture('scan/bom-semicolon-crlf.csv'),
      '--out',
      outDir(),
      '--simulate',
    ]).done;
    expect(r.code).toBe(0);
  });

  it('exit 2 with one line for bad usage and bad input', async () => {
    for (const args of [
      ['scan', fixture('scan/no-phone-column.csv'), '--out', outDir(), '--simulate'],
      ['scan', fixture('scan/empty.csv'), '--out', outDir(), '--simulate'],
      ['scan', fixture('crm-export.csv'), '--simulate'],
      ['scan', fixture('crm-export.csv'), '--out', outDir(), '--rate', 'fast'],
      ['scan', fixture('crm-export.csv'), '--out', outDir(), '--simulate', '--no-worker'],
    ]) {
      const r = await reachscan(args).done;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    }
  });

  it('exit 3 with one line when credentials are missing', async () => {
    const r = await reachscan(['scan', fixture('crm-export.csv'), '--out', outDir()]).done;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('VONAGE_APPLICATION_ID is not set');
  });

  it('--no-worker queues and waits while separate reachscan worker processes do the work', async () => {
    const sim = await startSimulatorProcess();
    const prefix = `e2e-${randomUUID()}`;
    const env = { ...simEnv(sim.stdout()), REACHSCAN_QUEUE_PREFIX: prefix };
    const workers = [reachscan(['worker', '--concurrency', '4'], env), reachscan(['worker'], env)];
    try {
      const out = outDir();
      const scan = await reachscan(
        ['scan', fixture('scan/national-gb.csv'), '--out', out, '--no-worker', '--default-country', 'GB'],
        {
          REACHSCAN_QUEUE_PREFIX: prefix,
        },
      ).done;
      expect(scan.stderr).toContain('waiting for reachscan worker processes');
      expect(scan.code, scan.stderr).toBe(0); // its invalid cells are findings, not failures
      const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
        byNumber: Record<string, number>;
      };
      expect(stats.byNumber).toEqual({ '+447400123456': 1, '+447400123457': 1, '+447400123458': 1 });
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      const exits = await Promise.all(workers.map((w) => w.done));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      await sim.stop();
    }
  });
});
