/** How far back the recent rate looks, in ms. */
export const RATE_WINDOW_MS = 30_000;
/** A recent rate needs samples at least this far apart, in ms; before that the average since the start is used. */
const MIN_SPAN_MS = 2_000;
/** Batches followed at once; the oldest is forgotten first. */
const MAX_BATCHES = 1_000;

interface Sample {
  readonly at: number;
  readonly answered: number;
}

/**
 * Answers per second of each batch, from the progress seen at each status read: over the last 30 s when
 * reads span enough time, else the average since the batch started.
 */
export class RateTracker {
  private readonly samples = new Map<string, Sample[]>();

  /** Records a reading and returns the rate (answers per second), or null when nothing says yet. */
  rate(batchId: string, now: number, answered: number, startedAtMs: number | null): number | null {
    let list = this.samples.get(batchId) ?? [];
    // Fewer answers than before: the batch started over (submitted again after it finished).
    if ((list.at(-1)?.answered ?? 0) > answered) list = [];
    this.samples.delete(batchId);
    this.samples.set(batchId, list); // most recently used last
    const last = list.at(-1);
    if (last === undefined || last.at < now) list.push({ at: now, answered });
    while (list.length > 2 && (list[0] as Sample).at < now - RATE_WINDOW_MS) list.shift();
    if (this.samples.size > MAX_BATCHES) this.samples.delete(this.samples.keys().next().value as string);

    const first = list[0] as Sample;
    if (now - first.at >= MIN_SPAN_MS && answered >= first.answered) {
      return (answered - first.answered) / ((now - first.at) / 1_000);
    }
    if (startedAtMs !== null && now - startedAtMs >= 1_000 && answered > 0) {
      return answered / ((now - startedAtMs) / 1_000);
    }
    return null;
  }

  forget(batchId: string): void {
    this.samples.delete(batchId);
  }
}

/** Seconds left at `rate`, once the total is known (the file is read); null when it cannot be said. */
export function etaSeconds(
  done: number,
  total: number,
  ingested: boolean,
  rate: number | null,
): number | null {
  if (!ingested || rate === null || rate <= 0) return null;
  return Math.max(0, Math.round((total - done) / rate));
}
