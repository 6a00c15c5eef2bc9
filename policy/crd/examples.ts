import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * The example resources kept in the repository, wherever they are written down: YAML files under `policy/testdata/`,
 * `examples/`, `bench/` and `manifests/`, `yaml` code blocks in Markdown, and policy files carried inside the data of
 * ConfigMaps (`outrigger-policies`). For tests that hold every example to a schema.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExampleDocument {
  /** `file#n` (n counts documents from 1), `file:line` for a Markdown block, `file#n data.key#m` inside a ConfigMap. */
  readonly where: string;
  readonly doc: unknown;
}

const YAML_FILE = /\.ya?ml$/;
// fuzz-corpus: hostile inputs for the loader (alias bombs, garbage), not examples.
const SKIPPED_DIRS = new Set(['node_modules', 'results', '.git', 'fuzz-corpus']);

/** Every `*.yaml`/`*.yml` below `dir` (relative to the repo), skipping dotfiles, dot-folders, bench results and fuzz corpora. */
export function yamlFiles(dir: string): string[] {
  return filesBelow(dir, (name) => YAML_FILE.test(name), true);
}

export function markdownFiles(dir: string, recursive: boolean): string[] {
  return filesBelow(dir, (name) => name.endsWith('.md'), recursive);
}

/** Files below `dir` whose name `matches`, sorted, as paths relative to the repo. */
function filesBelow(dir: string, matches: (name: string) => boolean, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.') || SKIPPED_DIRS.has(name)) continue;
      const path = join(folder, name);
      const info = statSync(path);
      if (info.isDirectory()) {
        if (recursive) walk(path);
      } else if (info.isFile() && matches(name)) out.push(relative(REPO_ROOT, path));
    }
  };
  walk(join(REPO_ROOT, dir));
  return out;
}

/** The documents of a YAML text; throws with the file name on a syntax error. */
export function parseDocuments(text: string, where: string): unknown[] {
  return parseAllDocuments(text).map((document, i) => {
    if (document.errors.length > 0) throw new Error(`${where}#${i + 1}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS() as unknown;
  }).filter((doc) => doc !== null && doc !== undefined);
}

export function documentsOfFile(file: string): ExampleDocument[] {
  const docs = parseDocuments(readFileSync(join(REPO_ROOT, file), 'utf8'), file);
  const out: ExampleDocument[] = [];
  docs.forEach((doc, i) => {
    out.push({ where: `${file}#${i + 1}`, doc });
    out.push(...documentsInConfigMap(doc, `${file}#${i + 1}`));
  });
  return out;
}

/** Policy documents inside a ConfigMap's `data` values that look like YAML policy files. */
export function documentsInConfigMap(doc: unknown, where: string): ExampleDocument[] {
  if (!isRecord(doc) || doc.apiVersion !== 'v1' || doc.kind !== 'ConfigMap' || !isRecord(doc.data)) return [];
  const out: ExampleDocument[] = [];
  for (const [key, value] of Object.entries(doc.data)) {
    if (!YAML_FILE.test(key) || typeof value !== 'string') continue;
    parseDocuments(value, `${where} data.${key}`).forEach((inner, j) => out.push({ where: `${where} data.${key}#${j + 1}`, doc: inner }));
  }
  return out;
}

/** Documents of the `yaml`/`yml` fenced blocks of a Markdown file. */
export function documentsOfMarkdown(file: string): ExampleDocument[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const out: ExampleDocument[] = [];
  for (const match of text.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, match.index).split('\n').length;
    parseDocuments(match[1] ?? '', `${file}:${line}`).forEach((doc, i) => out.push({ where: `${file}:${line}#${i + 1}`, doc }));
  }
  return out;
}

/** Every example document in the repository: policy test data, examples, bench inputs, manifests and docs. */
export function repositoryExamples(): ExampleDocument[] {
  const files = [...yamlFiles('policy/testdata'), ...yamlFiles('examples'), ...yamlFiles('bench'), ...yamlFiles('manifests')];
  const markdown = [...markdownFiles('.', false), ...markdownFiles('docs', true), ...markdownFiles('examples', true), ...markdownFiles('bench', false), ...markdownFiles('manifests', true)];
  return [...files.flatMap(documentsOfFile), ...markdown.flatMap(documentsOfMarkdown)];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
