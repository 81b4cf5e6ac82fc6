import { describe, expect, it } from 'vitest';
import { classifyHttpStatus } from '../../../src/core/errors.js';

describe('classifyHttpStatus', () => {
  it.each([
    [401, 'ERROR_AUTH', 'fatal'],
    [403, 'ERROR_AUTH', 'fatal'],
    [400, 'ERROR_REJECTED', 'permanent'],
    [404, 'ERROR_REJECTED', 'permanent'],
    [405, 'ERROR_REJECTED', 'permanent'],
    [415, 'ERROR_REJECTED', 'permanent'],
    [422, 'ERROR_REJECTED', 'permanent'],
    [408, 'ERROR_TIMEOUT', 'retryable'],
    [409, 'ERROR_UPSTREAM', 'retryable'],
    [429, 'ERROR_RATE_LIMITED', 'rate-limited'],
    [500, 'ERROR_UPSTREAM', 'retryable'],
    [502, 'ERROR_UPSTREAM', 'retryable'],
    [503, 'ERROR_UPSTREAM', 'retryable'],
  ])('HTTP %i → %s, %s', (status, code, retry) => {
    expect(classifyHttpStatus(status)).toEqual({ code, retry });
  });
});
