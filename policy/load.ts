import { createHash } from 'node:crypto';
import { parseYamlFile } from './documents.ts';
import { checkAcrossResources } from './cross-checks.ts';
import type { LocatedResource } from './cross-checks.ts';
import { readPolicyFiles } from './files.ts';
import { validateResource } from './resource.ts';
import type { ConfigError, LoadOptions, LoadResult, PolicySet, PolicyText, Sourced } from './types.ts';

export type { ConfigError, LoadOptions, LoadResult, PolicySet, PolicyText, Sourced } from './types.ts';

/** Loads a policy file, or every `*.yaml` / `*.yml` under a folder (recursively, sorted, skipping dotfiles). */
export async function loadPolicyPath(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  return loadPolicyPaths([path], options);
}

/** As loadPolicyPath, for several files or folders validated together as one set. */
export async function loadPolicyPaths(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const { texts, errors } = await readPolicyFiles(paths);
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return loadPolicyTexts(texts, options);
}

/** Parses and validates policy texts already in memory. Never throws: problems come back as located errors. */
export function loadPolicyTexts(files: readonly PolicyText[], options: LoadOptions = {}): LoadResult {
  const sorted = [...files].sort((a, b) => compare(a.file, b.file));
  const errors: ConfigError[] = [];
  const resources: LocatedResource[] = [];
  for (const { file, text } of sorted) {
    try {
      const parsed = parseYamlFile(file, text);
      errors.push(...parsed.errors);
      for (const doc of parsed.documents) {
        const result = validateResource(doc);
        errors.push(...result.errors);
        // Resources with only per-resource errors still take part in the checks across resources.
        if (result.resource) resources.push({ resource: result.resource, doc });
      }
    } catch (error) {
      // Nothing above is expected to throw; if a library does, report it against the file rather than crash a reload.
      errors.push({ file, line: 1, column: 1, path: '', message: `internal error while loading: ${String(error)}` });
    }
  }
  errors.push(...checkAcrossResources(resources, options.requireEndpoints ?? true));
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, policy: policySet(resources, sorted) };
}

function policySet(resources: readonly LocatedResource[], files: readonly PolicyText[]): PolicySet {
  const policy: PolicySet = {
    routes: [],
    trafficPolicies: [],
    endpoints: [],
    mesh: undefined,
    autoscalingSignals: [],
    files: files.map(({ file }) => file),
    hash: contentHash(files),
  };
  for (const { resource, doc } of resources) {
    const source = { file: doc.file, line: doc.line };
    switch (resource.kind) {
      case 'HTTPRoute':
        policy.routes.push({ resource, ...source });
        break;
      case 'TrafficPolicy':
        policy.trafficPolicies.push({ resource, ...source });
        break;
      case 'ServiceEndpoints':
        policy.endpoints.push({ resource, ...source });
        break;
      case 'Mesh':
        policy.mesh = { resource, ...source } satisfies Sourced<typeof resource>;
        break;
      case 'AutoscalingSignal':
        policy.autoscalingSignals.push({ resource, ...source });
        break;
    }
  }
  return policy;
}

/** Each text is prefixed with its byte length so that moving bytes between files changes the hash. */
function contentHash(files: readonly PolicyText[]): string {
  const hash = createHash('sha256');
  for (const { text } of files) hash.update(`${Buffer.byteLength(text, 'utf8')}\n`).update(text, 'utf8');
  return hash.digest('hex');
}

function sortErrors(errors: readonly ConfigError[]): ConfigError[] {
  return [...errors].sort((a, b) => compare(a.file, b.file) || a.line - b.line || a.column - b.column);
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
