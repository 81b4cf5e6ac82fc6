/** One fault case's figures, as `FaultCase.record()` appends them and the teardown prints them. */
export interface FaultFigures {
  readonly case: string;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly ms: number;
  readonly notes?: string;
}

/** The figures as a plain-text table, one line per case. */
export function reportTable(rows: readonly FaultFigures[]): string {
  const header = ['case', 'rows in', 'rows out', 'duplicates', 'lost', 'time s', 'notes'];
  const body = rows.map((r) => [
    r.case,
    String(r.rowsIn),
    String(r.rowsOut),
    String(r.duplicates),
    String(r.lost),
    (r.ms / 1000).toFixed(1),
    r.notes ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  // Numbers right-aligned, text left-aligned; the last column is not padded.
  const numeric = [false, true, true, true, true, true, false];
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1
          ? cell
          : numeric[i]
            ? cell.padStart(widths[i] ?? 0)
            : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
