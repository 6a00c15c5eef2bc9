import { loadPolicyTexts, type ConfigError, type LoadOptions, type LoadResult } from '../../policy/load.ts';

/** One file of a config pushed to the sidecar (e.g. from a signed snapshot): its name, used in error locations, and its YAML. */
export interface PushedFile {
  name: string;
  text: string;
}

/** Validates pushed files as one policy set, as a config folder would be. Two files of one name are refused: their errors could not be told apart. */
export function loadPushedFiles(files: readonly PushedFile[], options: LoadOptions): LoadResult {
  const seen = new Set<string>();
  const errors: ConfigError[] = [];
  for (const { name } of files) {
    if (seen.has(name)) errors.push({ file: name, line: 1, column: 1, path: '', message: `more than one pushed file is named ${JSON.stringify(name)}` });
    seen.add(name);
  }
  if (errors.length > 0) return { ok: false, errors };
  return loadPolicyTexts(
    files.map(({ name, text }) => ({ file: name, text })),
    options,
  );
}
