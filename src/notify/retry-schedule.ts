/** The most one wait between attempts may be: late in the day, an hour apart is often enough. */
export const MAX_RETRY_DELAY_MS = 3600_000;

/**
 * The wait before retry `attempt` (1 = the first retry): `baseMs` doubled per attempt, times a jitter between
 * 0.8 and 1.2 so receivers that came back are not hit by every sender at once, capped at an hour and at what
 * is left of the event's retry window. Null once the window is over: the delivery is then marked failed.
 */
export function retryDelayMs(
  attempt: number,
  schedule: { readonly baseMs: number; readonly forMs: number },
  elapsedMs: number,
  random: () => number = Math.random,
): number | null {
  const left = schedule.forMs - elapsedMs;
  if (left <= 0) return null;
  const doubled = schedule.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40);
  const jittered = Math.round(doubled * (0.8 + 0.4 * random()));
  return Math.max(1, Math.min(jittered, MAX_RETRY_DELAY_MS, left));
}
