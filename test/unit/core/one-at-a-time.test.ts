import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { OneAtATimePerKey } from '../../../src/core/one-at-a-time.js';

describe('OneAtATimePerKey', () => {
  it('runs tasks of one key in arrival order, never two at once, and other keys beside them', async () => {
    const serial = new OneAtATimePerKey();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const a = [
      serial.run('n1', task('a1', 30)),
      serial.run('n1', task('a2', 1)),
      serial.run('n1', task('a3', 1)),
    ];
    const b = serial.run('n2', task('b1', 5));
    expect(await Promise.all([...a, b])).toEqual(['a1', 'a2', 'a3', 'b1']);
    const ofA = log.filter((l) => / a\d$/.test(l));
    expect(ofA).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    // b1 ran while a1 was running: keys do not wait for each other.
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
    expect(most).toBe(2);
  });

  it('a failed task rejects its own promise only; the next of its key still runs; no key is kept after', async () => {
    const serial = new OneAtATimePerKey();
    const failed = serial.run('k', () => Promise.reject(new Error('boom')));
    const next = serial.run('k', () => Promise.resolve('ran'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    await sleep(0);
    expect(serial.size).toBe(0);
  });
});
