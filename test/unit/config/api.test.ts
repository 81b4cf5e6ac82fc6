import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../../src/config/api.js';
import { ConfigError } from '../../../src/core/errors.js';

const token = '0123456789abcdef0123';

function problems(env: Record<string, string>, flags = {}): readonly string[] {
  try {
    loadApiConfig(env, flags);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadApiConfig', () => {
  it('defaults: 127.0.0.1:8080, ./data, 100 MB, batches kept 30 days', () => {
    expect(loadApiConfig({ REACHSCAN_API_TOKEN: token })).toEqual({
      token,
      host: '127.0.0.1',
      port: 8080,
      dataDir: resolve('data'),
      maxUploadBytes: 100 * 1024 * 1024,
      batchRetentionDays: 30,
    });
  });

  it('REACHSCAN_BATCH_RETENTION_DAYS: 0 keeps batches forever; a negative or non-number is refused', () => {
    expect(loadApiConfig({ REACHSCAN_API_TOKEN: token, REACHSCAN_BATCH_RETENTION_DAYS: '0' })).toMatchObject({
      batchRetentionDays: 0,
    });
    expect(problems({ REACHSCAN_API_TOKEN: token, REACHSCAN_BATCH_RETENTION_DAYS: '-1' })).toEqual([
      'REACHSCAN_BATCH_RETENTION_DAYS must be a number of days from 0 (keep forever) to 36500 (got "-1")',
    ]);
    expect(problems({ REACHSCAN_API_TOKEN: token, REACHSCAN_BATCH_RETENTION_DAYS: 'month' })).toHaveLength(1);
  });

  it('reads the environment; --host and --port win', () => {
    const env = {
      REACHSCAN_API_TOKEN: token,
      REACHSCAN_API_HOST: '0.0.0.0',
      REACHSCAN_API_PORT: '9000',
      REACHSCAN_DATA_DIR: '/srv/reachscan',
      REACHSCAN_API_MAX_UPLOAD_MB: '0.5',
    };
    expect(loadApiConfig(env)).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/srv/reachscan',
      maxUploadBytes: 524_288,
    });
    expect(loadApiConfig(env, { host: '::1', port: '0' })).toMatchObject({ host: '::1', port: 0 });
  });

  it('refuses a missing or weak token without repeating it, and names every bad setting', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^REACHSCAN_API_TOKEN is required/)]);
    const weak = problems({ REACHSCAN_API_TOKEN: 'hunter2' });
    expect(weak).toEqual([expect.stringMatching(/at least 16 characters/)]);
    expect(weak.join()).not.toContain('hunter2');
    expect(problems({ REACHSCAN_API_TOKEN: `${token} x` })).toHaveLength(1);
    expect(
      problems({ REACHSCAN_API_TOKEN: token, REACHSCAN_API_PORT: '70000', REACHSCAN_API_MAX_UPLOAD_MB: '0' }),
    ).toEqual([
      'REACHSCAN_API_PORT must be a port number 0-65535 (got "70000")',
      'REACHSCAN_API_MAX_UPLOAD_MB must be a number of megabytes above 0 (got "0")',
    ]);
    expect(problems({ REACHSCAN_API_TOKEN: token }, { port: '-1' })).toEqual([
      '--port must be a port number 0-65535 (got "-1")',
    ]);
  });
});
