import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Listener } from './expected-forward.ts';

/** What a corpus case pins on top of the property: every request forwarded, the first one refused, or either. */
export type Expectation = 'forward' | 'refuse' | 'either';

export interface CorpusCase {
  /** File name without `.json`. */
  name: string;
  description: string;
  /** Latin1 strings (JSON `\u00XX` escapes for any byte), each sent as its own write. */
  parts: string[];
  expect: Expectation;
  listeners: Listener[];
  /** A known gap: the case is reported as a todo with this reason until it is fixed. */
  todo: string | undefined;
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Reads every `*.json` case in `dir` (see its README.md), failing loudly on a malformed file. */
export function loadHttpCorpus(dir: string): CorpusCase[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      const where = `${join(dir, file)}:`;
      if (!isStringArray(raw.parts) || raw.parts.length === 0) throw new Error(`${where} "parts" must be a non-empty array of strings`);
      if (raw.parts.some((part) => [...part].some((ch) => ch.charCodeAt(0) > 0xff))) throw new Error(`${where} "parts" must hold bytes (code points up to \\u00ff)`);
      if (raw.expect !== 'forward' && raw.expect !== 'refuse' && raw.expect !== 'either') throw new Error(`${where} "expect" must be "forward", "refuse" or "either"`);
      const listeners = raw.listeners ?? ['inbound', 'outbound'];
      if (!isStringArray(listeners) || listeners.length === 0 || listeners.some((l) => l !== 'inbound' && l !== 'outbound')) throw new Error(`${where} "listeners" must list "inbound" and/or "outbound"`);
      if (typeof raw.description !== 'string' || raw.description === '') throw new Error(`${where} "description" is required`);
      if (raw.todo !== undefined && typeof raw.todo !== 'string') throw new Error(`${where} "todo" must be a string`);
      return { name: file.slice(0, -'.json'.length), description: raw.description, parts: raw.parts, expect: raw.expect, listeners: listeners as Listener[], todo: raw.todo };
    });
}
