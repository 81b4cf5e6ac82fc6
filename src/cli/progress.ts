import type { BatchStatus } from '../queue/batch-state.js';

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
      let text: string;
      if (!status.ingested) {
        text = `reading input: ${status.records.toLocaleString('en')} records, ${status.unique.toLocaleString('en')} unique numbers, ${status.answered.toLocaleString('en')} answered`;
      } else {
        const share = status.unique === 0 ? 1 : status.answered / status.unique;
        const left = status.unique - status.answered;
        const eta = perSecond > 0 ? formatDuration(left / perSecond) : '–';
        const width = 24;
        const filled = Math.round(share * width);
        const bar = stream.isTTY ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
        text =
          `${bar}${(share * 100).toFixed(1)}% ${status.answered.toLocaleString('en')}/${status.unique.toLocaleString('en')} numbers` +
          ` (${status.records.toLocaleString('en')} rows) · ${perSecond.toFixed(0)}/s · ETA ${eta}` +
          (status.state === 'finalizing' ? ' · writing outputs' : '');
      }
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
