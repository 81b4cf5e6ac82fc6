import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RUN_LOG_LENGTH, RunLog, runLogKey } from '../../../src/history/run-log.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

describe('run log (real Redis)', () => {
  const history = () => ({ prefix: `{test-runs-${randomUUID()}}:`, retentionDays: 90 });

  it('keeps one entry per run: a run recorded again replaces its own entry', async () => {
    const h = history();
    const log = new RunLog(redis, h);
    expect(await log.record('nightly', 'b1@t1', '{"n":1}')).toEqual(['{"n":1}']);
    expect(await log.record('nightly', 'b2@t2', '{"n":2}')).toEqual(['{"n":1}', '{"n":2}']);
    // The finalize step of b2 run again after its worker died: still two runs, b2's figures as written last.
    expect(await log.record('nightly', 'b2@t2', '{"n":2,"again":true}')).toEqual([
      '{"n":1}',
      '{"n":2,"again":true}',
    ]);
    // The same batch id started again later is another run.
    expect(await log.record('nightly', 'b2@t3', '{"n":3}')).toHaveLength(3);
    // Labels are apart; the key sits under the history's prefix and hash tag.
    expect(await log.record('other', 'b1@t1', '{"n":9}')).toEqual(['{"n":9}']);
    expect(runLogKey(h, 'nightly')).toBe(`${h.prefix}runs:nightly`);
    expect(await redis.llen(runLogKey(h, 'nightly'))).toBe(3);
  });

  it(`keeps the last ${RUN_LOG_LENGTH} runs and expires with the history's retention`, async () => {
    const h = history();
    const log = new RunLog(redis, h);
    let entries: string[] = [];
    for (let i = 1; i <= RUN_LOG_LENGTH + 5; i++) entries = await log.record('fleet', `b@${i}`, String(i));
    expect(entries).toEqual(Array.from({ length: RUN_LOG_LENGTH }, (_, i) => String(i + 6)));
    const ttl = await redis.ttl(runLogKey(h, 'fleet'));
    expect(ttl).toBeGreaterThan(89 * 86_400);
    expect(ttl).toBeLessThanOrEqual(90 * 86_400);
  });
});
