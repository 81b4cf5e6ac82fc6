import { describe, expect, it } from 'vitest';
import { BreakerBoard, ErrorWindow, pauseReason } from '../../../src/batch/error-breaker.js';

describe('ErrorWindow', () => {
  it('never trips before the window is full, however bad the start', () => {
    const w = new ErrorWindow(10);
    for (let i = 0; i < 9; i++) w.record('HTTP 503');
    expect(w.check(0.5)).toBeNull();
    w.record('HTTP 503');
    expect(w.check(0.5)).toEqual({ failed: 10, calls: 10, mostly: 'HTTP 503' });
  });

  it('trips only above the share, over the last calls only', () => {
    const w = new ErrorWindow(10);
    for (let i = 0; i < 5; i++) w.record('HTTP 500');
    for (let i = 0; i < 5; i++) w.record(null);
    expect(w.check(0.5)).toBeNull(); // exactly half is not more than half
    w.record('ERROR_TIMEOUT'); // replaces the oldest 500: still 5 of 10
    w.record('ERROR_TIMEOUT');
    expect(w.check(0.5)).toBeNull();
    // Three more replace the last 500s and one more replaces the oldest success: 6 of 10.
    for (let i = 0; i < 4; i++) w.record('ERROR_TIMEOUT');
    const trip = w.check(0.5);
    expect(trip).toEqual({ failed: 6, calls: 10, mostly: 'ERROR_TIMEOUT' });
  });

  it('forgets old failures as successes come in', () => {
    const w = new ErrorWindow(4);
    for (let i = 0; i < 4; i++) w.record('HTTP 503');
    expect(w.check(0.5)).not.toBeNull();
    for (let i = 0; i < 3; i++) w.record(null);
    expect(w.check(0.5)).toBeNull();
  });

  it('a threshold of 1 never trips', () => {
    const w = new ErrorWindow(3);
    for (let i = 0; i < 3; i++) w.record('HTTP 503');
    expect(w.check(1)).toBeNull();
  });
});

describe('BreakerBoard', () => {
  const settings = { threshold: 0.5, window: 4 };

  it('keeps one window per batch', () => {
    const board = new BreakerBoard();
    for (let i = 0; i < 4; i++) board.record('a', 0, settings, 'HTTP 503');
    for (let i = 0; i < 3; i++) expect(board.record('b', 0, settings, null)).toBeNull();
    expect(board.record('a', 0, settings, 'HTTP 503')).not.toBeNull();
    expect(board.record('b', 0, settings, 'HTTP 503')).toBeNull();
  });

  it('starts a clean window after a resume, so old failures do not pause again at once', () => {
    const board = new BreakerBoard();
    for (let i = 0; i < 4; i++) board.record('a', 0, settings, 'HTTP 503');
    expect(board.record('a', 1, settings, 'HTTP 503')).toBeNull();
    expect(board.record('a', 1, settings, null)).toBeNull();
  });
});

describe('pauseReason', () => {
  it('says how many failed, mostly what, and the command', () => {
    expect(pauseReason({ failed: 150, calls: 200, mostly: 'HTTP 503' }, '0123456789abcdef01234567')).toBe(
      '75% of the last 200 carrier calls failed (mostly HTTP 503); paused to save the quota: fix the cause, then run reachscan resume 0123456789abcdef01234567',
    );
  });
});
