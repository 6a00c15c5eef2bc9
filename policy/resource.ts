import { KINDS } from './schema/index.ts';
import type { KindKey, Resource } from './schema/index.ts';
import { createIssueFormatter } from './issues.ts';
import { checkRoute } from './route-checks.ts';
import type { SourceDocument } from './documents.ts';
import type { ConfigError } from './types.ts';

/** `resource` is set once the schema accepts the document, even if later per-resource rules still found errors. */
export interface ResourceResult {
  resource: Resource | undefined;
  errors: ConfigError[];
}

/** Past this many, errors about one document are noise, and locating each one costs time. */
const MAX_ERRORS_PER_DOCUMENT = 100;

const KNOWN_KINDS = Object.keys(KINDS)
  .map((key) => `${key.slice(key.lastIndexOf('/') + 1)} (${key.slice(0, key.lastIndexOf('/'))})`)
  .join(', ');

/** Checks one document against its kind's schema and, if that passes, the rules within one resource. */
export function validateResource(doc: SourceDocument): ResourceResult {
  const { value } = doc;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return failed(doc.errorAt([], `a document must be a mapping with apiVersion, kind, metadata and spec; got ${describeValue(value)}`));
  }
  const fields = value as Record<string, unknown>;
  const { apiVersion, kind } = fields;
  const missing = (['apiVersion', 'kind'] as const).filter((field) => fields[field] === undefined);
  if (missing.length > 0) return failed(doc.errorAt([], `missing ${missing.join(' and ')}; known kinds: ${KNOWN_KINDS}`));
  if (typeof apiVersion !== 'string') return failed(doc.errorAt(['apiVersion'], 'apiVersion must be a string'));
  if (typeof kind !== 'string') return failed(doc.errorAt(['kind'], 'kind must be a string'));

  const key = `${apiVersion}/${kind}`;
  if (!isKindKey(key)) return failed(unknownKind(doc, apiVersion, kind));

  const formatter = createIssueFormatter();
  const parsed = KINDS[key].safeParse(value, { error: formatter.errorMap, reportInput: true });
  if (!parsed.success) {
    const problems = formatter.problems(parsed.error.issues);
    const shown = problems.slice(0, MAX_ERRORS_PER_DOCUMENT).map((problem) => doc.errorAt(problem.path, problem.message, { key: problem.atKey }));
    const hidden = problems.length - shown.length;
    return failed(...shown, ...(hidden > 0 ? [doc.errorAt([], `${hidden} more errors in this document are not shown`)] : []));
  }
  const resource: Resource = parsed.data;
  return { resource, errors: resource.kind === 'HTTPRoute' ? checkRoute(resource, doc) : [] };
}

function unknownKind(doc: SourceDocument, apiVersion: string, kind: string): ConfigError {
  const versionsOfKind = Object.keys(KINDS).filter((key) => key.endsWith(`/${kind}`));
  if (versionsOfKind.length > 0) {
    const versions = versionsOfKind.map((key) => key.slice(0, -kind.length - 1)).join(', ');
    return doc.errorAt(['apiVersion'], `unknown apiVersion "${apiVersion}" for kind ${kind}; use ${versions}`);
  }
  return doc.errorAt(['kind'], `unknown kind "${kind}" (apiVersion "${apiVersion}"); known kinds: ${KNOWN_KINDS}`);
}

function isKindKey(key: string): key is KindKey {
  return Object.hasOwn(KINDS, key);
}

function failed(...errors: ConfigError[]): ResourceResult {
  return { resource: undefined, errors };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
