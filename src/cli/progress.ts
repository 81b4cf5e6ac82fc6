import type { BatchStatus } from '../batch/state.js';

export interface Progress {
  update(status: BatchStatus): void;
  /** Ends the progress display (clears the bar on a TTY). */
  finish(): void;
}

const PLAIN_EVERY_MS = 5_000;

/**
 * A bar on a terminal, redrawn in place; periodic plain lines otherwise (logs, CI), never a flood.
 * Progress counts unique numbers answered: that is where the time goes.
 */
export function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  now: () => number,
  totalBytes: number,
): Progress {
  const samples: { at: number; answered: number }[] = [];
  let lastPlain = now(); // a first plain line only after 5 s: short runs stay quiet
  let drawn = false;

  const rate = (): number => {
    const first = samples[0];
    const last = samples[samples.length - 1];
    if (!first || !last || last.at === first.at) return 0;
    return ((last.answered - first.answered) * 1000) / (last.at - first.at);
  };

  return {
    update(status) {
      const at = now();
      samples.push({ at, answered: status.answered });
      while (samples.length > 2 && at - (samples[0] as { at: number }).at > 10_000) samples.shift();
      const perSecond = rate();
      // While the file is still being read, totals are extrapolated from the share of bytes read.
      const readShare = status.ingested ? 1 : totalBytes > 0 ? Math.min(1, status.bytesRead / totalBytes) : 0;
      const estimate = (n: number) => (readShare > 0 ? Math.round(n / readShare) : 0);
      const rowsTotal = status.ingested ? status.records : estimate(status.records);
      const uniqueTotal = status.ingested ? status.unique : estimate(status.unique);
      const share =
        uniqueTotal === 0 ? (status.ingested ? 1 : 0) : Math.min(1, status.answered / uniqueTotal);
      const approx = status.ingested ? '' : '~';
      const eta =
        perSecond > 0 && uniqueTotal > 0 ? formatDuration((uniqueTotal - status.answered) / perSecond) : '–';
      const width = 24;
      const filled = Math.round(share * width);
      const bar = stream.isTTY ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
      const n = (value: number) => value.toLocaleString('en');
      const text =
        `${bar}${(share * 100).toFixed(1)}% ${approx}${n(Math.round(share * rowsTotal))}/${approx}${n(rowsTotal)} rows` +
        ` · ${n(status.answered)}/${approx}${n(uniqueTotal)} numbers · ${perSecond.toFixed(0)}/s · ETA ${approx}${eta}` +
        (status.ingested ? '' : ` · reading ${(readShare * 100).toFixed(0)}%`) +
        (status.retries > 0 ? ` · ${n(status.retries)} retried` : '') +
        (status.pauses > 0 ? ` · ${n(status.pauses)} paused for 429` : '') +
        (status.state === 'finalizing' ? ' · writing outputs' : '') +
        // Why is said on its own line when the pause starts (the breaker, a refusal, the budget, the quota).
        (status.state === 'paused' ? ' · PAUSED' : '');
      if (stream.isTTY) {
        stream.write(
          `\r\x1b[2K${stream.columns && stream.columns > 20 ? text.slice(0, stream.columns - 1) : text}`,
        );
        drawn = true;
      } else if (at - lastPlain >= PLAIN_EVERY_MS) {
        stream.write(`progress: ${text}\n`);
        lastPlain = at;
      }
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(rest).padStart(2, '0')}`
    : `${m}:${String(rest).padStart(2, '0')}`;
}
