import { describe, expect, it } from 'vitest';
import { JOB_FIELDS, parseJobFile } from '../../../src/schedule/job-file.js';

const BASE = '/srv/reachscan/jobs';
const parse = (fields: unknown, fileName = 'nightly-fleet.json') =>
  parseJobFile({
    label: `jobs/${fileName}`,
    fileName,
    text: typeof fields === 'string' ? fields : JSON.stringify(fields),
    baseDir: BASE,
  });
const minimal = { source: 'fleet.csv', cron: '0 2 * * *', timezone: 'Europe/Paris', out: '../out' };

function problemsOf(result: ReturnType<typeof parse>): readonly string[] {
  if (result.ok) throw new Error('expected problems, got a definition');
  return result.problems;
}

describe('job files', () => {
  it('a minimal file gets the scan defaults; relative paths resolve against the job file folder', () => {
    const result = parse(minimal);
    expect(result).toEqual({
      ok: true,
      definition: {
        version: 1,
        id: 'nightly-fleet',
        jobFile: 'jobs/nightly-fleet.json',
        description: null,
        source: '/srv/reachscan/jobs/fleet.csv',
        provider: 'identity-insights',
        cron: '0 2 * * *',
        timezone: 'Europe/Paris',
        out: '/srv/reachscan/out',
        staleDays: 60,
        maxAgeMs: 0,
        column: null,
        defaultCountry: null,
        rate: 0,
        enabled: true,
      },
    });
  });

  it('every field read: absolute paths kept, 6-field pattern, durations and country as the flags read them', () => {
    const result = parse(
      '\uFEFF' +
        JSON.stringify({
          description: 'trucks',
          source: '/data/fleet.csv',
          provider: 'device-status',
          cron: '  */2   * * * * * ',
          timezone: 'UTC',
          out: '/data/out',
          staleDays: 30,
          maxAge: '24h',
          column: 'msisdn',
          defaultCountry: 'gb',
          rate: 12.5,
          enabled: false,
        }),
      'trucks_2-b.json',
    );
    expect(result.ok && result.definition).toMatchObject({
      id: 'trucks_2-b',
      description: 'trucks',
      source: '/data/fleet.csv',
      provider: 'device-status',
      cron: '*/2 * * * * *',
      out: '/data/out',
      staleDays: 30,
      maxAgeMs: 86_400_000,
      column: 'msisdn',
      defaultCountry: 'GB',
      rate: 12.5,
      enabled: false,
    });
    expect(parse({ ...minimal, maxAge: '0', column: null, defaultCountry: null })).toMatchObject({
      ok: true,
      definition: { maxAgeMs: 0, column: null, defaultCountry: null },
    });
  });

  it('reports every problem at once, each naming the file and the field', () => {
    const problems = problemsOf(
      parse({
        tiemzone: 'Europe/Paris',
        MaxAge: '24h',
        cron: '0 25 * * *',
        timezone: 'Europe/Pari',
        out: '',
        provider: 'vonage',
        staleDays: '60',
        maxAge: '1 week',
        defaultCountry: 'XX',
        rate: -1,
        enabled: 'yes',
        column: 7,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'jobs/nightly-fleet.json: "tiemzone": unknown field (the fields are ' + JOB_FIELDS.join(', ') + ')',
        'jobs/nightly-fleet.json: "MaxAge": unknown field; did you mean "maxAge"?',
        'jobs/nightly-fleet.json: "source": is required',
        'jobs/nightly-fleet.json: "timezone": unknown time zone "Europe/Pari"',
        'jobs/nightly-fleet.json: "out": must be a non-empty string (got "")',
        'jobs/nightly-fleet.json: "provider": must be identity-insights, device-status or camara (got "vonage")',
        'jobs/nightly-fleet.json: "staleDays": must be a whole number (got "60")',
        'jobs/nightly-fleet.json: "maxAge": must be a duration such as 90s, 30m, 24h or 7d, or "0" (got "1 week")',
        'jobs/nightly-fleet.json: "defaultCountry": must be an ISO country code such as GB, or null (got "XX")',
        'jobs/nightly-fleet.json: "rate": must be between 0 and 100000 (got -1)',
        'jobs/nightly-fleet.json: "enabled": must be true or false (got "yes")',
        'jobs/nightly-fleet.json: "column": must be a non-empty string (got 7)',
      ]),
    );
    // The hour 25 is refused even though the zone is wrong: both are told at once.
    expect(problems.find((p) => p.includes('"cron"'))).toMatch(
      /^jobs\/nightly-fleet\.json: "cron": "0 25 \* \* \*" is not a valid cron pattern \(.*\)$/,
    );
    expect(problems).toHaveLength(13);
  });

  it.each([
    ['* * *', 'must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 3'],
    ['0 0 2 * * * *', 'got 7'],
    [' ', 'must be a non-empty string (got " ")'],
    ['0 0 30 2 *', 'is not a valid cron pattern'],
    ['@daily', 'got 1'],
  ])('cron %j is refused', (cron, reason) => {
    const [problem] = problemsOf(parse({ ...minimal, cron }));
    expect(problem).toContain('jobs/nightly-fleet.json: "cron": ');
    expect(problem).toContain(reason);
  });

  it('the file name is the id: letters, digits, _ and - only', () => {
    expect(problemsOf(parse(minimal, 'nightly fleet.json'))).toEqual([
      'jobs/nightly fleet.json: the file name is the schedule\'s id and may hold only letters, digits, _ and - (at most 64), before ".json"',
    ]);
    expect(problemsOf(parse(minimal, `${'a'.repeat(65)}.json`))).toHaveLength(1);
  });

  it('a file that is not one JSON object says so', () => {
    expect(problemsOf(parse('{"source": "a.csv",'))[0]).toMatch(
      /^jobs\/nightly-fleet\.json: not valid JSON \(.+\)$/,
    );
    expect(problemsOf(parse([minimal]))).toEqual([
      'jobs/nightly-fleet.json: must hold one JSON object ({"source": …, "cron": …, …})',
    ]);
  });
});
