import { z } from 'zod';
import { KINDS } from '../schema/index.ts';

interface Node {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  oneOf?: Node[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

interface Row {
  field: string;
  type: string;
  required: boolean;
  default: string;
  constraints: string;
}

/** Metadata fields the API server manages; documented once, not per kind. */
const SKIPPED = new Set(['metadata.creationTimestamp', 'metadata.uid', 'metadata.resourceVersion', 'metadata.generation']);

/**
 * The policy reference: every field of every kind with its type, default and constraints, generated from the zod
 * schemas the loader validates with, so the document cannot drift from what is accepted.
 */
export function policyReference(): string {
  const sections = Object.entries(KINDS).map(([key, schema]) => {
    const kind = key.slice(key.lastIndexOf('/') + 1);
    const apiVersion = key.slice(0, key.lastIndexOf('/'));
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node;
    const rows: Row[] = [];
    walk(json, '', true, rows);
    const table = rows
      .filter((r) => !SKIPPED.has(r.field) && r.field !== 'apiVersion' && r.field !== 'kind')
      .map((r) => `| \`${r.field}\`${r.required ? ' *' : ''} | ${r.type} | ${r.default} | ${r.constraints} |`)
      .join('\n');
    return `## ${kind}\n\n\`apiVersion: ${apiVersion}\`, \`kind: ${kind}\`. Fields marked * are required.\n\n| field | type | default | constraints |\n|---|---|---|---|\n${table}\n`;
  });
  return `# Policy reference

Generated from the schemas in \`policy/schema/\` by \`npm run generate:reference\`; a test fails when this file and
the schemas disagree. Durations are strings such as \`250ms\`, \`10s\`, \`1m\`. Unknown fields are errors (with a
"did you mean"). \`metadata\` also accepts \`labels\` and \`annotations\`; the API server's own fields (\`uid\`,
\`resourceVersion\`, …) are accepted and ignored.

${sections.join('\n')}`;
}

/** `listItem`: the node is an array's items, listed under `field[]` without a row of its own (the array's row says what it holds). */
function walk(node: Node, path: string, required: boolean, rows: Row[], listItem = false): void {
  const alternatives = node.anyOf ?? node.oneOf;
  if (path !== '' && !listItem) rows.push(row(node, path, required));
  if (node.properties) {
    for (const [name, child] of Object.entries(node.properties)) walk(child, path === '' ? name : `${path}.${name}`, node.required?.includes(name) ?? false, rows);
  }
  if (node.items && (node.items.properties || node.items.anyOf || node.items.oneOf)) walk(node.items, `${path}[]`, false, rows, true);
  if (alternatives) {
    for (const alternative of alternatives) {
      if (alternative.properties) for (const [name, child] of Object.entries(alternative.properties)) walk(child, `${path}.${name}`, alternative.required?.includes(name) ?? false, rows);
    }
  }
}

function row(node: Node, field: string, required: boolean): Row {
  return { field, type: typeOf(node), required, default: node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``, constraints: constraintsOf(node) };
}

function typeOf(node: Node): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => (v === '' ? '`""`' : `\`${String(v)}\``)).join(' \\| ');
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' \\| ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'any'}`;
  if (node.type === 'object' && !node.properties && node.additionalProperties && typeof node.additionalProperties === 'object') return `map of ${typeOf(node.additionalProperties)}`;
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  return node.type ?? 'any';
}

function constraintsOf(node: Node): string {
  const parts: string[] = [];
  const min = node.minimum ?? node.exclusiveMinimum;
  if (min !== undefined && Math.abs(min) < Number.MAX_SAFE_INTEGER) parts.push(`${node.exclusiveMinimum !== undefined ? '>' : '≥'} ${min}`);
  if (node.maximum !== undefined && Math.abs(node.maximum) < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${node.maximum}`);
  if (node.minLength !== undefined && node.minLength > 1) parts.push(`length ≥ ${node.minLength}`);
  if (node.maxLength !== undefined) parts.push(`length ≤ ${node.maxLength}`);
  if (node.minItems !== undefined && node.minItems > 0) parts.push(`≥ ${node.minItems} items`);
  if (node.maxItems !== undefined) parts.push(`≤ ${node.maxItems} items`);
  if (node.format) parts.push(node.format);
  return parts.join(', ');
}
