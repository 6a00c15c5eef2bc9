/** Outrigger policies: Kubernetes-style YAML resources, their schemas, and the loader that validates them. */
export { loadPolicyPath, loadPolicyPaths, loadPolicyTexts } from './load.ts';
export type { ConfigError, LoadOptions, LoadResult, PolicySet, PolicyText, Sourced } from './types.ts';
export { MAX_FILE_BYTES } from './documents.ts';
export { MAX_REGEX_LENGTH, regexProblem } from './regex.ts';
export { formatPath } from './locate.ts';
export * from './schema/index.ts';
