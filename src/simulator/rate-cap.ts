/**
 * A global requests-per-second cap over a sliding one-second window: no window of 1000 ms ever holds more than
 * `perSecond` accepted requests, which is the strictest reading of a carrier's "N requests per second".
 */
export class SlidingWindowCap {
  private readonly accepted: number[] = [];
  private head = 0;

  constructor(private perSecond: number) {}

  setLimit(perSecond: number): void {
    this.perSecond = perSecond;
  }

  /** Takes a slot at `nowMs`; when none is free, returns how long until one frees up (ms). */
  tryAcquire(nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.perSecond <= 0) return { ok: true };
    while (this.head < this.accepted.length && (this.accepted[this.head] as number) <= nowMs - 1000)
      this.head++;
    if (this.head > 4096 && this.head * 2 > this.accepted.length) {
      this.accepted.splice(0, this.head);
      this.head = 0;
    }
    const inWindow = this.accepted.length - this.head;
    if (inWindow < this.perSecond) {
      this.accepted.push(nowMs);
      return { ok: true };
    }
    const oldest = this.accepted[this.accepted.length - this.perSecond] as number;
    return { ok: false, retryAfterMs: Math.max(1, oldest + 1000 - nowMs) };
  }
}
