import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ScheduleDefinition } from './definition.js';
import { parseJobFile } from './job-file.js';

export interface JobsFolder {
  /** Valid job files, by id. */
  readonly definitions: readonly ScheduleDefinition[];
  /** One line per problem, each naming the file and the field; any problem means nothing is synced. */
  readonly problems: readonly string[];
  /** Things worth saying that do not stop a sync (a source file that does not exist yet). */
  readonly warnings: readonly string[];
}

/** Reads and checks every `*.json` file of a jobs folder (other files, such as a README, are left alone). */
export async function loadJobsFolder(dir: string): Promise<JobsFolder> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => e.name.endsWith('.json') && !e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--dir ${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code ?? 'error'})`}`,
    );
  }
  const definitions: ScheduleDefinition[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const fileName of names) {
    const label = join(dir, fileName);
    let text: string;
    try {
      text = await readFile(label, 'utf8');
    } catch (error) {
      problems.push(`${label}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const result = parseJobFile({ label, fileName, text, baseDir: resolve(dir) });
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    definitions.push(result.definition);
    // The export may well be written later (by the nightly job that feeds it): say so, but do not refuse.
    const source = await stat(result.definition.source).catch(() => null);
    if (source === null || !source.isFile()) {
      warnings.push(
        `${label}: "source": ${result.definition.source} ${source === null ? 'does not exist yet' : 'is not a file'}; runs fail until it does`,
      );
    }
  }
  return { definitions, problems, warnings };
}
