import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The documentation holds together: every relative link in the Markdown files leads to a file (and, with an
 * anchor, to a heading of that file), the README stays short, and docs/configuration.md lists every environment
 * variable the code reads.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const README_MAX_BYTES = 12 * 1024;

/** Every `.md` file under a folder of the repository, as absolute paths. */
function markdownUnder(folder: string): string[] {
  const absolute = join(ROOT, folder);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(absolute, name))
    .sort();
}

const DOCUMENTS = [
  ...['README.md', 'test/README.md', 'CHANGELOG.md', 'bench/README.md'].map((file) => join(ROOT, file)),
  ...markdownUnder('docs'),
];

/** The Markdown without its fenced code blocks. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm, '');
}

/** The text a reader sees as prose: fenced code blocks and inline code spans (which may span lines) blanked out. */
function proseOf(markdown: string): string {
  return withoutFences(markdown).replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, (code) =>
    code.replace(/[^\n]/g, ' '),
  );
}

interface Link {
  readonly text: string;
  readonly target: string;
  readonly line: number;
}

/** Inline links and images, `[text](target)` or `[text](target "title")`. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  const prose = proseOf(markdown);
  for (const match of prose.matchAll(/!?\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({
      text: match[1] ?? '',
      target: match[2] ?? '',
      line: prose.slice(0, match.index).split('\n').length,
    });
  }
  return links;
}

/** GitHub's anchor for a heading: lowercase, punctuation but `-` and `_` dropped, spaces turned into `-`. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file offers, repeated headings numbered as GitHub does (`-1`, `-2`…). */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of withoutFences(markdown).matchAll(/^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(match[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const readText = (path: string) => readFileSync(path, 'utf8');

describe('the documentation', () => {
  it('finds the files it checks', () => {
    for (const file of DOCUMENTS) expect(existsSync(file), relative(ROOT, file)).toBe(true);
    expect(DOCUMENTS.some((file) => file.startsWith(join(ROOT, 'docs')))).toBe(true);
  });

  it.each(DOCUMENTS.map((file) => [relative(ROOT, file), file]))(
    '%s: every relative link leads to a file, and every anchor to a heading',
    (_name, file) => {
      const broken: string[] = [];
      for (const link of linksOf(readText(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // http:, https:, mailto: …
        const hash = link.target.indexOf('#');
        const path = decodeURI(hash === -1 ? link.target : link.target.slice(0, hash));
        const anchor = hash === -1 ? null : decodeURIComponent(link.target.slice(hash + 1));
        const where = `line ${link.line}: [${link.text}](${link.target})`;
        const resolved = path === '' ? file : resolve(dirname(file), path);
        if (!resolved.startsWith(ROOT)) {
          broken.push(`${where}: leaves the repository`);
          continue;
        }
        if (!existsSync(resolved)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor === null || anchor === '') continue;
        if (!resolved.endsWith('.md') || statSync(resolved).isDirectory()) {
          broken.push(`${where}: an anchor into a file that is not Markdown`);
          continue;
        }
        if (!anchorsOf(readText(resolved)).has(anchor)) broken.push(`${where}: no heading "#${anchor}"`);
      }
      expect(broken).toEqual([]);
    },
  );

  it(`keeps README.md within ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });
});

/** Every TypeScript file under a folder. */
function typescriptUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(ROOT, folder, name))
    .sort();
}

const VARIABLE = /\b(?:REACHSCAN|VONAGE|CAMARA)_[A-Z0-9_]+|\bREDIS_URL\b/g;

/**
 * The environment variable names that appear in string literals (plain, or the text parts of template literals)
 * of the sources, with the files they appear in. Comments and identifiers such as `VONAGE_DEFAULTS` do not count.
 */
function variablesInSources(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of typescriptUnder('src')) {
    const source = ts.createSourceFile(file, readText(file), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      if (
        ts.isStringLiteral(node) ||
        ts.isNoSubstitutionTemplateLiteral(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)
      ) {
        for (const [name] of node.text.matchAll(VARIABLE)) {
          const files = found.get(name) ?? new Set<string>();
          files.add(relative(ROOT, file));
          found.set(name, files);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** The names in the first column of docs/configuration.md's table: rows such as | `REDIS_URL` | … | … |. */
function documentedVariables(): Set<string> {
  const table = readText(join(ROOT, 'docs', 'configuration.md'));
  return new Set([...table.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((match) => match[1] ?? ''));
}

describe('docs/configuration.md', () => {
  it('lists, in its table, every environment variable named in the sources', () => {
    const inSources = variablesInSources();
    // The sources name the main ones in many places: finding none would mean the search is broken.
    expect(inSources.has('REDIS_URL')).toBe(true);
    expect(inSources.has('VONAGE_APPLICATION_ID')).toBe(true);
    const documented = documentedVariables();
    const missing = [...inSources]
      .filter(([name]) => !documented.has(name))
      .map(([name, files]) => `${name} (${[...files].join(', ')})`);
    expect(missing).toEqual([]);
    // It reads every source file: on a busy machine that takes more than the default 5 s.
  }, 60_000);
});
