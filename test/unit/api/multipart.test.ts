import { describe, expect, it } from 'vitest';
import { boundaryProblem, multipartProblem } from '../../../src/api/multipart.js';
import { HttpProblem } from '../../../src/api/problem.js';

describe('boundaryProblem', () => {
  it('accepts a boundary, bare or quoted, anywhere among the parameters', () => {
    expect(boundaryProblem('multipart/form-data; boundary=----x1')).toBeNull();
    expect(boundaryProblem('multipart/form-data; charset=utf-8; BOUNDARY="a b"')).toBeNull();
    expect(boundaryProblem(`multipart/form-data; boundary=${'b'.repeat(70)}`)).toBeNull();
  });

  it('names a missing, empty or over-long boundary', () => {
    expect(boundaryProblem('multipart/form-data')).toMatch(/^the Content-Type has no boundary/);
    expect(boundaryProblem('multipart/form-data; charset=utf-8')).toMatch(/has no boundary/);
    expect(boundaryProblem('multipart/form-data; boundary=')).toBe('the Content-Type has an empty boundary');
    expect(boundaryProblem('multipart/form-data; boundary=""')).toBe(
      'the Content-Type has an empty boundary',
    );
    expect(boundaryProblem('multipart/form-data; boundary=;x=1')).toBe(
      'the Content-Type has an empty boundary',
    );
    expect(boundaryProblem(`multipart/form-data; boundary=${'b'.repeat(71)}`)).toBe(
      'the boundary is 71 characters long, over the 70 RFC 2046 allows',
    );
  });
});

describe('multipartProblem', () => {
  const translated = (error: unknown) => multipartProblem(error) as HttpProblem;

  it('turns busboy limit errors (413s) into 400s that say what the limit is', () => {
    const files = Object.assign(new Error('reach files limit'), { code: 'FST_FILES_LIMIT', statusCode: 413 });
    expect(translated(files)).toBeInstanceOf(HttpProblem);
    expect([translated(files).status, translated(files).detail]).toEqual([
      400,
      'one file per upload, in the field named "file"',
    ]);
    const fields = Object.assign(new Error('reach fields limit'), { code: 'FST_FIELDS_LIMIT' });
    expect(translated(fields).status).toBe(400);
  });

  it('turns a body cut short into a 400 saying so', () => {
    for (const message of [
      'Unexpected end of multipart data',
      'Part terminated early due to unexpected end of multipart data',
    ]) {
      const answer = translated(new Error(message));
      expect(answer.status).toBe(400);
      expect(answer.detail).toMatch(/^malformed multipart upload: the body ends before its closing boundary/);
    }
  });

  it('leaves other errors as they are', () => {
    const other = new Error('EACCES');
    expect(multipartProblem(other)).toBe(other);
    const tooLarge = Object.assign(new Error('request file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' });
    expect(multipartProblem(tooLarge)).toBe(tooLarge);
  });
});
