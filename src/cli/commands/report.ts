import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { rebuildReports } from '../../output/rebuild-reports.js';
import { outputFiles } from '../../output/report-files.js';
import { parseCommandArgs } from '../args.js';
import { idColumnsFlag, numberFlag } from '../../config/options.js';
import { plural } from '../../output/format.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { REPORT_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { SCAN_DEFAULTS } from '../../config/defaults.js';

/** `reachscan report <results.csv>`: every report again, from a results file. */
export async function runReport(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    'stale-days': { type: 'string' },
    out: { type: 'string' },
    bom: { type: 'boolean', default: false },
    'id-columns': { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('report needs exactly one results file: reachscan report <results.csv>');
  const file = positionals[0] as string;
  const staleDays =
    numberFlag(values['stale-days'], 'stale-days', { min: 1, max: 36_500 }) ?? SCAN_DEFAULTS.staleDays;
  const outDir = resolve(values.out ?? dirname(file));
  const idColumnNames = idColumnsFlag(values['id-columns']);
  const report = await rebuildReports(resolve(file), basename(file), outDir, staleDays, {
    bom: values.bom,
    ...(idColumnNames !== undefined ? { idColumnNames } : {}),
  });
  const names = outputFiles(staleDays);
  io.stdout.write(
    [
      `${plural(report.rows.total, 'row')} from ${file} → ${outDir}`,
      `  no connectivity for ${staleDays}+ days: ${plural(report.stale.rows, 'row')} → ${names.stale}`,
      `  changes: ${plural(report.changes.rows, 'row')} → ${names.changes}`,
      `  reports: ${names.reportHtml}, ${names.reportMd}, ${names.reportJson}`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
