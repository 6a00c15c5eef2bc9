import { regexProblem } from './regex.ts';
import type { FieldPath } from './locate.ts';
import type { HTTPRoute, HTTPRouteFilter, HTTPRouteMatch } from './schema/index.ts';
import type { SourceDocument } from './documents.ts';
import type { ConfigError } from './types.ts';

/** Rules of one HTTPRoute the schema cannot express: filter combinations the Gateway API forbids, and safe regexes. */
export function checkRoute(route: HTTPRoute, doc: Pick<SourceDocument, 'errorAt'>): ConfigError[] {
  const errors: ConfigError[] = [];
  route.spec.rules.forEach((rule, r) => {
    const rulePath = ['spec', 'rules', r];
    rule.matches?.forEach((match, m) => errors.push(...checkMatch(match, [...rulePath, 'matches', m], doc)));
    if (rule.filters) {
      errors.push(...checkFilters(rule.filters, [...rulePath, 'filters'], doc));
      const redirect = rule.filters.findIndex((filter) => filter.type === 'RequestRedirect');
      if (redirect >= 0 && rule.backendRefs && rule.backendRefs.length > 0) {
        errors.push(
          doc.errorAt(
            [...rulePath, 'filters', redirect],
            'RequestRedirect cannot be combined with backendRefs: a redirected request is answered by the sidecar and never forwarded',
          ),
        );
      }
    }
    rule.backendRefs?.forEach((backend, b) => {
      if (backend.filters) errors.push(...checkFilters(backend.filters, [...rulePath, 'backendRefs', b, 'filters'], doc));
    });
  });
  return errors;
}

function checkFilters(filters: readonly HTTPRouteFilter[], path: FieldPath, doc: Pick<SourceDocument, 'errorAt'>): ConfigError[] {
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  filters.forEach((filter, f) => {
    // Mirroring to several backends is the one filter the Gateway API allows more than once.
    if (filter.type !== 'RequestMirror' && seen.has(filter.type)) {
      errors.push(doc.errorAt([...path, f, 'type'], `filter ${filter.type} appears more than once; combine them into one`));
    }
    seen.add(filter.type);
  });
  const rewrite = filters.findIndex((filter) => filter.type === 'URLRewrite');
  if (rewrite >= 0 && seen.has('RequestRedirect')) {
    errors.push(doc.errorAt([...path, rewrite], 'URLRewrite cannot be combined with RequestRedirect in the same filters'));
  }
  return errors;
}

function checkMatch(match: HTTPRouteMatch, path: FieldPath, doc: Pick<SourceDocument, 'errorAt'>): ConfigError[] {
  const errors: ConfigError[] = [];
  if (match.path && match.path.type !== 'RegularExpression' && !match.path.value.startsWith('/')) {
    errors.push(doc.errorAt([...path, 'path', 'value'], `a path of type ${match.path.type} must start with "/"`));
  }
  const patterns: { path: FieldPath; value: string }[] = [];
  if (match.path?.type === 'RegularExpression') patterns.push({ path: [...path, 'path', 'value'], value: match.path.value });
  match.headers?.forEach((header, h) => {
    if (header.type === 'RegularExpression') patterns.push({ path: [...path, 'headers', h, 'value'], value: header.value });
  });
  match.queryParams?.forEach((query, q) => {
    if (query.type === 'RegularExpression') patterns.push({ path: [...path, 'queryParams', q, 'value'], value: query.value });
  });
  for (const pattern of patterns) {
    const problem = regexProblem(pattern.value);
    if (problem) errors.push(doc.errorAt(pattern.path, problem));
  }
  return errors;
}
