import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it } from 'vitest';
import { asE164 } from '../../../src/core/e164.js';
import type { LookupOutcome } from '../../../src/core/lookup-result.js';
import { createProvider } from '../../../src/providers/create-provider.js';
import { startSimulatorProcess } from '../../support/simulator-process.js';
import {
  capturingLogger,
  providerFor,
  startTestSimulator,
  type TestSimulator,
} from '../../support/simulator.js';

const open: TestSimulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
async function simulator(options: Parameters<typeof startTestSimulator>[0] = {}) {
  const t = await startTestSimulator(options);
  open.push(t);
  return t;
}

/** The same 300 GB mobiles every time. */
const NUMBERS = Array.from({ length: 300 }, (_, i) =>
  asE164(`+4474${String(1_000 + i * 37).padStart(8, '0')}`),
);

function facts(o: LookupOutcome) {
  if (o.kind !== 'answered') return o.failure.code;
  return JSON.stringify([
    o.reachability.status.code,
    o.reachability.reachable,
    o.reachability.connectivity,
    o.reachability.latestStatusAt,
    o.roaming.status.code,
    o.roaming.roaming,
    o.roaming.countries,
  ]);
}

async function answersOf(t: TestSimulator): Promise<string[]> {
  const provider = providerFor(t, capturingLogger().logger);
  const limit = pLimit(16);
  const out = await Promise.all(NUMBERS.map((n) => limit(async () => facts(await provider.lookup(n)))));
  await provider.close();
  return out;
}

describe('simulator determinism', () => {
  it('gives the same answers for the same seed, from separate simulators', async () => {
    const anchorMs = Date.parse('2026-06-01T00:00:00Z');
    const a = await answersOf(await simulator({ seed: 'fleet-7', anchorMs }));
    const b = await answersOf(await simulator({ seed: 'fleet-7', anchorMs }));
    const c = await answersOf(await simulator({ seed: 'other', anchorMs }));
    expect(b).toEqual(a);
    expect(c.filter((x, i) => x !== a[i]).length).toBeGreaterThan(50);
    expect(new Set(a).size).toBeGreaterThan(100); // a real mix, not one canned answer
  });
});

describe('simulator rate cap', () => {
  it('keeps every 1-second window within 5% of the cap under twice the load', async () => {
    const cap = 100;
    // Its own process, as in real use: answers are timed by a server not sharing this event loop.
    const sim = await startSimulatorProcess(['--rate-cap', String(cap)]);
    const provider = createProvider(sim.config(), { logger: capturingLogger().logger });
    const accepted: number[] = [];
    let limited = 0;
    // Offer twice the cap, paced evenly (a tight loop would measure this process's own stalls instead).
    const offered = cap * 2;
    const calls: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < offered * 2.5; i++) {
      const due = started + (i * 1000) / offered;
      await sleep(Math.max(0, due - performance.now()));
      calls.push(
        provider.lookup(asE164('+990123400')).then((o) => {
          if (o.kind === 'answered') accepted.push(performance.now());
          else if (o.failure.code === 'ERROR_RATE_LIMITED') limited++;
          else throw new Error(o.failure.detail);
        }),
      );
    }
    await Promise.all(calls);
    await provider.close();
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { rateLimited: number };
    expect(await sim.stop()).toBe(0);
    accepted.sort((x, y) => x - y);
    let worst = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while ((accepted[j] as number) <= (accepted[i] as number) - 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(limited).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(cap * 2); // the cap was reached in every second
    expect(worst).toBeLessThanOrEqual(cap * 1.05);
    expect(stats.rateLimited).toBe(limited);
  });
});
