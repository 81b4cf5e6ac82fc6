import { describe, expect, it } from 'vitest';
import { asDiskError, DiskError } from '../../../src/core/errors.js';

const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });

describe('asDiskError: a disk that refuses, as one line naming the folder', () => {
  it.each([
    ['ENOSPC', 'cannot write to /srv/out: no space left on the device (ENOSPC)'],
    ['EDQUOT', 'cannot write to /srv/out: the disk quota is used up (EDQUOT)'],
    ['EROFS', 'cannot write to /srv/out: the file system is read-only (EROFS)'],
    ['EIO', 'cannot write to /srv/out: input/output error (the disk failed) (EIO)'],
  ])('%s', (code, message) => {
    const error = asDiskError(errno(code), '/srv/out');
    expect(error).toBeInstanceOf(DiskError);
    expect(error?.message).toBe(message);
  });

  it('other errors are not disk errors, and a DiskError keeps its folder', () => {
    expect(asDiskError(errno('ENOENT'), '/srv/out')).toBeNull();
    expect(asDiskError(new Error('plain'), '/srv/out')).toBeNull();
    const first = asDiskError(errno('ENOSPC'), '/a');
    expect(asDiskError(first, '/b')).toBe(first);
  });
});
