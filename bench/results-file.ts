import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Writes one bench's section into a shared results file between its own markers, keeping every other section
 * (the wrk table, the gossip simulation, the soak): each `npm run bench*` refreshes only what it measured.
 * A file without the markers gets the section appended.
 */
export function writeResultsSection(file: string, name: string, section: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${section.trim()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next = start >= 0 && stop > start ? `${current.slice(0, start)}${block}${current.slice(stop + end.length)}` : `${current.trimEnd()}${current ? '\n\n' : ''}${block}\n`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}
