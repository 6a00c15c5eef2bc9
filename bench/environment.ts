/** Which tools are installed, their versions, and the machine description for the report. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function onPath(tool: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function toolOutput(tool: string, args: string[]): string {
  const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 5000 });
  return `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
}

function packageVersion(repoRoot: string, name: string): string | undefined {
  const file = path.join(repoRoot, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

export function toolVersions(tools: ReadonlySet<string>, repoRoot: string): string {
  const parts: string[] = [];
  const grab = (tool: string, args: string[], re: RegExp): void => {
    if (!tools.has(tool)) {
      parts.push(`${tool} not installed`);
      return;
    }
    parts.push(`${tool} ${re.exec(toolOutput(tool, args))?.[1] ?? '?'}`);
  };
  grab('nginx', ['-v'], /nginx\/(\S+)/);
  grab('haproxy', ['-v'], /HAProxy version (\S+)/);
  grab('wrk', ['-v'], /^wrk (\S+)/m);
  const nested = packageVersion(repoRoot, '@fastify/reply-from/node_modules/undici');
  for (const name of ['undici', 'http-proxy', 'fastify', '@fastify/reply-from']) {
    const version = packageVersion(repoRoot, name) ?? 'not installed';
    parts.push(`${name} ${version}${name === '@fastify/reply-from' && nested !== undefined ? ` (bundles undici ${nested})` : ''}`);
  }
  return parts.join(', ');
}

export function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? 'unknown CPU';
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}
