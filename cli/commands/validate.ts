import { stat } from 'node:fs/promises';
import { loadPolicyPaths } from '../../policy/index.ts';
import type { ConfigError, PolicySet } from '../../policy/index.ts';
import { parseCommandArgs, usageError, type Command } from '../command.ts';

const USAGE = `outrigger validate PATH [PATH...] [flags]

Checks policy YAML as one set: files as given, folders searched recursively for
*.yaml and *.yml (dotfiles skipped). Each problem is printed as
file:line:column: field: message and the exit code is 1; a valid set prints a
one-line summary and exits 0. Usage errors exit 2.

Flags:
  --no-require-endpoints  do not require a ServiceEndpoints for every backend
                          Service (when endpoints come from discovery instead)
  --json                  print the result as one JSON object
  -h, --help              print this help`;

export const validateCommand: Command = {
  name: 'validate',
  usage: USAGE,
  async run(args, io) {
    const parsed = parseCommandArgs(io, { name: 'validate', usage: USAGE }, {
      args,
      allowPositionals: true,
      allowNegative: true,
      options: {
        'require-endpoints': { type: 'boolean', default: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (typeof parsed === 'number') return parsed;
    const { values, positionals: paths } = parsed;
    if (paths.length === 0) return usageError(io, 'validate', 'missing PATH: name a policy file or folder');
    for (const path of paths) {
      if (!(await exists(path))) return usageError(io, 'validate', `no such file or folder: ${path}`);
    }

    const result = await loadPolicyPaths(paths, { requireEndpoints: values['require-endpoints'] });
    if (values.json) {
      io.out(JSON.stringify(result.ok ? { ok: true, ...summaryData(result.policy) } : result));
    } else if (result.ok) {
      io.out(summary(result.policy));
    } else {
      for (const error of result.errors) io.out(formatError(error));
      io.err(`${result.errors.length} ${result.errors.length === 1 ? 'error' : 'errors'}`);
    }
    return result.ok ? 0 : 1;
  },
};

/** `file:line:column: path: message`, the form editors and CI annotators recognise; no path for file-level errors. */
export function formatError(error: ConfigError): string {
  const where = `${error.file}:${error.line}:${error.column}`;
  return error.path === '' ? `${where}: ${error.message}` : `${where}: ${error.path}: ${error.message}`;
}

function summaryData(policy: PolicySet): { files: string[]; resources: Record<string, number>; hash: string } {
  const resources = {
    HTTPRoute: policy.routes.length,
    TrafficPolicy: policy.trafficPolicies.length,
    ServiceEndpoints: policy.endpoints.length,
    AutoscalingSignal: policy.autoscalingSignals.length,
    Mesh: policy.mesh ? 1 : 0,
  };
  return { files: policy.files, resources, hash: policy.hash };
}

function summary(policy: PolicySet): string {
  const { files, resources, hash } = summaryData(policy);
  const counts = Object.entries(resources).filter(([, count]) => count > 0);
  const total = counts.reduce((sum, [, count]) => sum + count, 0);
  const breakdown = counts.length > 0 ? ` (${counts.map(([kind, count]) => `${count} ${kind}`).join(', ')})` : '';
  return `ok: ${plural(total, 'resource')} in ${plural(files.length, 'file')}${breakdown}, content hash ${hash.slice(0, 12)}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}


async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
