import { isAlias, isNode, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { Document, DocumentOptions, ParseOptions, SchemaOptions, YAMLError } from 'yaml';
import { formatPath, locate } from './locate.ts';
import { findStructureProblems, MAX_ALIASES } from './yaml-structure.ts';
import type { FieldPath, LocateOptions } from './locate.ts';
import type { ConfigError } from './types.ts';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** A broken file can yield one error per line; past this many the rest is noise. */
const MAX_SYNTAX_ERRORS_PER_DOCUMENT = 20;

/**
 * YAML 1.2 core schema whatever `%YAML` directive a file carries (no 1.1 booleans like `yes`, no `<<` merges) and
 * no tags beyond the core ones. Duplicate keys are errors, found by findStructureProblems (see there for why).
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  schema: 'core',
  merge: false,
  resolveKnownTags: false,
  uniqueKeys: false,
  prettyErrors: true,
  strict: true,
  logLevel: 'silent',
};

/** One non-empty YAML document of a file, its plain value, and a way to point errors back at its source. */
export interface SourceDocument {
  file: string;
  /** Line where the document's content starts. */
  line: number;
  value: unknown;
  errorAt(path: FieldPath, message: string, options?: LocateOptions): ConfigError;
}

export interface ParsedFile {
  documents: SourceDocument[];
  errors: ConfigError[];
}

/** Splits a file into documents, skipping empty ones; documents with YAML errors are reported and left out. */
export function parseYamlFile(file: string, text: string): ParsedFile {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) {
    return { documents: [], errors: [fileError(file, `file is ${bytes} bytes; the limit is ${MAX_FILE_BYTES} (4 MiB)`)] };
  }
  const lineCounter = new LineCounter();
  const documents: SourceDocument[] = [];
  const errors: ConfigError[] = [];
  for (const doc of parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter })) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      for (const problem of problems.slice(0, MAX_SYNTAX_ERRORS_PER_DOCUMENT)) errors.push(yamlError(file, lineCounter, problem));
    } else if (!isEmpty(doc)) {
      const loaded = loadDocument(file, doc, lineCounter);
      if ('value' in loaded) documents.push(loaded);
      else errors.push(...loaded.errors);
    }
  }
  return { documents, errors };
}

function loadDocument(file: string, doc: Document.Parsed, lineCounter: LineCounter): SourceDocument | { errors: ConfigError[] } {
  try {
    const structureProblems = findStructureProblems(doc, lineCounter, MAX_SYNTAX_ERRORS_PER_DOCUMENT);
    if (structureProblems.length > 0) {
      return { errors: structureProblems.map(({ offset, message }) => positioned(file, lineCounter, offset, `YAML: ${message}`)) };
    }
  } catch (error) {
    // Walking the node tree recurses; nesting deep enough to overflow the stack is not a config.
    if (error instanceof RangeError) return { errors: [positioned(file, lineCounter, doc.range[0], 'YAML: document is nested too deeply')] };
    throw error;
  }
  try {
    // maxAliasCount bounds expansion ("billion laughs": a few aliases of aliases that expand exponentially).
    return { ...sourceDocument(file, doc, lineCounter), value: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (error) {
    if (error instanceof RangeError) return { errors: [positioned(file, lineCounter, doc.range[0], 'YAML: document is nested too deeply')] };
    // Otherwise a ReferenceError: an unresolved alias, or alias expansion beyond maxAliasCount.
    return { errors: [aliasError(file, doc, lineCounter, error)] };
  }
}

export function fileError(file: string, message: string): ConfigError {
  return { file, line: 1, column: 1, path: '', message };
}

function sourceDocument(file: string, doc: Document.Parsed, lineCounter: LineCounter): Omit<SourceDocument, 'value'> {
  return {
    file,
    line: locate(doc, lineCounter, []).line,
    errorAt(path, message, options) {
      const { line, column } = locate(doc, lineCounter, path, options);
      return { file, line, column, path: formatPath(path), message };
    },
  };
}

/** `---` alone or only comments: nothing to load. An explicit `~` or `null` is content, and is reported later. */
function isEmpty(doc: Document.Parsed): boolean {
  const contents = doc.contents;
  return contents === null || (isScalar(contents) && contents.value === null && !contents.source);
}

function positioned(file: string, lineCounter: LineCounter, offset: number, message: string): ConfigError {
  const { line, col } = lineCounter.linePos(offset);
  return { file, line, column: col, path: '', message };
}

function yamlError(file: string, lineCounter: LineCounter, problem: YAMLError): ConfigError {
  const { line, col } = problem.linePos?.[0] ?? lineCounter.linePos(problem.pos[0]);
  // prettyErrors appends " at line L, column C:" and a source excerpt; the position is reported on its own.
  const message = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return { file, line, column: col, path: '', message: `YAML: ${message}` };
}

function aliasError(file: string, doc: Document.Parsed, lineCounter: LineCounter, error: unknown): ConfigError {
  // Point at the alias that has no anchor, or else at the first alias: expansion is what went over the limit.
  // Anchors are collected in document order, as an alias may only refer to an anchor set before it.
  const anchors = new Set<string>();
  let first: number | undefined;
  let unresolved: number | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      first ??= node.range?.[0];
      if (!anchors.has(node.source)) {
        unresolved = node.range?.[0];
        return visit.BREAK;
      }
    } else if (isNode(node) && node.anchor) {
      anchors.add(node.anchor);
    }
    return undefined;
  });
  const reason = error instanceof Error ? error.message : String(error);
  return positioned(file, lineCounter, unresolved ?? first ?? doc.contents?.range[0] ?? 0, `YAML: ${reason}`);
}
