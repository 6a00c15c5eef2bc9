import type { z } from 'zod';
import { closestMatch } from './suggest.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** One field-level problem: `path` is from the document root; `atKey` points at the key rather than the value. */
export interface FieldProblem {
  path: PropertyKey[];
  message: string;
  atKey: boolean;
}

/**
 * Turns zod issues into messages written for someone editing YAML. Use `errorMap` as the parse's `error` option
 * (messages a schema sets itself, like a regex's explanation, still win), then `problems` on the issues.
 */
export function createIssueFormatter(): {
  errorMap: z.core.$ZodErrorMap;
  problems: (issues: readonly Issue[]) => FieldProblem[];
} {
  // The fields an object schema knows, by the object that had unknown keys, to suggest the one that was meant.
  const knownFields = new WeakMap<object, string[]>();
  const errorMap = (issue: RawIssue): string => {
    if (issue.code === 'unrecognized_keys' && isObject(issue.input) && issue.inst && 'shape' in issue.inst) {
      knownFields.set(issue.input, Object.keys(issue.inst.shape as object));
    }
    return describeIssue(issue);
  };
  const problems = (issues: readonly Issue[], base: readonly PropertyKey[] = []): FieldProblem[] =>
    issues.flatMap((issue): FieldProblem[] => {
      const path = [...base, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        const known = isObject(issue.input) ? (knownFields.get(issue.input) ?? []) : [];
        return issue.keys.map((key) => ({ path: [...path, key], message: unknownField(key, known), atKey: true }));
      }
      if (issue.code === 'invalid_union' && issue.errors.length > 0 && !isEnumLike(issue.errors)) {
        const branch = likeliestBranch(issue.errors);
        if (branch) return problems(branch, path);
        return [{ path, message: noBranchMatches(issue.errors), atKey: false }];
      }
      return [{ path, message: issue.message, atKey: false }];
    });
  return { errorMap, problems: (issues) => problems(issues) };
}

function describeIssue(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return missingField(issue.path);
      if (issue.expected === 'int' && typeof issue.input === 'number') return `expected an integer, got ${issue.input}`;
      return `expected ${typeNoun(issue.expected)}, got ${typeOf(issue.input)}`;
    }
    case 'invalid_value':
      return `expected ${oneOf(issue.values)}, got ${show(issue.input)}`;
    case 'too_small':
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false, issue.input);
    case 'too_big':
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false, issue.input);
    case 'invalid_format':
      if (issue.format === 'starts_with') return `must start with ${JSON.stringify(issue['prefix'])}`;
      if (issue.format === 'datetime') return 'must be an RFC 3339 date-time with a time zone, e.g. "2025-01-31T12:00:00Z"';
      if (issue.format === 'regex') return `must match ${issue.pattern ?? 'the expected pattern'}`;
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return issue.keys.map((key) => `unknown field "${key}"`).join(', ');
    case 'invalid_union': {
      if (isEnumLike(issue.errors)) {
        const values = issue.errors.flatMap((issues) => issues.flatMap((inner) => (inner.code === 'invalid_value' ? inner.values : [])));
        return `expected ${oneOf(values)}, got ${show(issue.input)}`;
      }
      if (issue.discriminator === undefined || !isObject(issue.input)) return 'does not match any allowed form';
      const value = (issue.input as Record<string, unknown>)[issue.discriminator];
      const options: unknown[] = Array.isArray(issue['options']) ? issue['options'] : [];
      if (value === undefined) return `missing required field "${issue.discriminator}" (one of ${options.map(show).join(', ')})`;
      return `expected ${oneOf(options)}, got ${show(value)}`;
    }
    case 'invalid_key':
      return 'invalid key';
    case 'invalid_element':
      return 'invalid element';
    default:
      return 'invalid value';
  }
}

function unknownField(key: string, known: readonly string[]): string {
  const meant = closestMatch(key, known);
  return meant === undefined ? `unknown field "${key}"` : `unknown field "${key}" (did you mean "${meant}"?)`;
}

function missingField(path: readonly PropertyKey[] | undefined): string {
  const name = path?.at(-1);
  return typeof name === 'string' ? `missing required field "${name}"` : 'missing required value';
}

function tooSmall(origin: string, minimum: number, inclusive: boolean, input: unknown): string {
  if (origin === 'string') return minimum <= 1 ? 'must not be empty' : `must be at least ${minimum} characters long`;
  if (origin === 'array') return `must have at least ${minimum} ${minimum === 1 ? 'item' : 'items'}`;
  return `must be ${inclusive ? 'at least' : 'greater than'} ${minimum}, got ${show(input)}`;
}

function tooBig(origin: string, maximum: number, inclusive: boolean, input: unknown): string {
  const length = typeof input === 'string' || Array.isArray(input) ? input.length : undefined;
  if (origin === 'string') return `must be at most ${maximum} characters long, got ${length}`;
  if (origin === 'array') return `must have at most ${maximum} ${maximum === 1 ? 'item' : 'items'}, got ${length}`;
  return `must be ${inclusive ? 'at most' : 'less than'} ${maximum}, got ${show(input)}`;
}

/** A union of literals (`301 | 302 | …`): every branch failed with just a different expected value. */
function isEnumLike(branches: readonly (readonly Issue[])[]): boolean {
  return branches.length > 0 && branches.every((issues) => issues.length === 1 && issues[0]?.code === 'invalid_value' && issues[0].path.length === 0);
}

/**
 * The branch the author most likely meant: the one whose failures are about values rather than shape (unknown or
 * missing fields). Undefined when branches tie, as for an empty mapping.
 */
function likeliestBranch(branches: readonly Issue[][]): Issue[] | undefined {
  const scored = branches.map((issues) => ({ issues, score: shapeMismatches(issues) })).sort((a, b) => a.score - b.score);
  const [best, second] = scored;
  if (!best || (second && second.score === best.score)) return undefined;
  return best.issues;
}

function shapeMismatches(issues: readonly Issue[]): number {
  let count = 0;
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') count += issue.keys.length;
    else if (issue.code === 'invalid_type' && issue.path.length <= 1 && issue.message.startsWith('missing')) count += 1;
  }
  return count;
}

function noBranchMatches(branches: readonly Issue[][]): string {
  const missing = branches.map((issues) => (issues.length === 1 && issues[0]?.message.startsWith('missing required field') ? issues[0].path[0] : undefined));
  if (missing.every((field) => typeof field === 'string')) return `needs one of the fields ${missing.map(show).join(', ')}`;
  if (branches.every((issues) => issues.every((issue) => issue.code === 'unrecognized_keys'))) {
    const fields = branches.flatMap((issues) => issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys : [])));
    return `set only one of the fields ${[...new Set(fields)].map(show).join(', ')}`;
  }
  return `does not match any allowed form: ${branches.map((issues) => issues.map((issue) => issue.message).join('; ')).join(' | ')}`;
}

function oneOf(values: readonly unknown[]): string {
  if (values.length === 1) return show(values[0]);
  return `one of ${values.map(show).join(', ')}`;
}

function typeNoun(expected: string): string {
  if (expected === 'object' || expected === 'record') return 'mapping';
  if (expected === 'array' || expected === 'tuple') return 'list';
  if (expected === 'int') return 'integer';
  return expected;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeOf(value);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
