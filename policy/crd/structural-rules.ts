import { isJsonObject, KUBERNETES_FORMATS, type JsonSchema } from './structural.ts';

/**
 * The rules the Kubernetes API server applies to a CRD's `openAPIV3Schema` (apiextensions.k8s.io/v1), checked
 * offline: the structural-schema rules of the CRD documentation ("Specifying a structural schema") plus the
 * keyword restrictions of `ValidateCustomResourceDefinitionOpenAPISchema`. Returns one message per violation,
 * each with its JSON path; an empty list means the API server would accept the schema's shape.
 *
 * It checks the generator's output independently of the conversion in `structural.ts`, so a bug there cannot
 * hide behind itself.
 */
export function structuralProblems(root: JsonSchema): string[] {
  const problems: string[] = [];
  if (root.type !== 'object') problems.push('(root): type must be object');
  for (const junctor of JUNCTORS) if (junctor in root) problems.push(`(root): ${junctor} is not allowed at the root`);
  const properties = isJsonObject(root.properties) ? root.properties : {};
  const metadata = properties.metadata;
  if (metadata !== undefined) {
    if (!isJsonObject(metadata)) problems.push('metadata: must be a schema');
    else {
      const extra = Object.keys(metadata).filter((key) => key !== 'type' && key !== 'properties' && key !== 'description');
      const fields = isJsonObject(metadata.properties) ? Object.keys(metadata.properties) : [];
      if (extra.length > 0 || fields.some((f) => f !== 'name' && f !== 'generateName')) {
        problems.push('metadata: only restrictions on metadata.name and metadata.generateName are allowed');
      }
    }
  }
  walk(root, '', false, problems);
  return problems;
}

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;

/** Every field of JSONSchemaProps (apiextensions.k8s.io/v1). */
const JSON_SCHEMA_PROPS = new Set([
  'id', '$schema', '$ref', 'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum',
  'maxProperties', 'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties',
  'additionalProperties', 'patternProperties', 'dependencies', 'additionalItems', 'definitions', 'externalDocs',
  'example', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/** JSONSchemaProps fields a CRD schema may not use (the API server refuses them). */
const FORBIDDEN = new Set(['id', '$schema', '$ref', 'definitions', 'patternProperties', 'dependencies', 'additionalItems']);

/** What a node inside allOf/anyOf/oneOf/not may not set. */
const NOT_IN_JUNCTORS = ['type', 'description', 'default', 'additionalProperties', 'nullable', 'title', 'format'];

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function walk(node: JsonSchema, path: string, inJunctor: boolean, problems: string[]): void {
  const at = path === '' ? '(root)' : path;
  for (const key of Object.keys(node)) {
    if (!JSON_SCHEMA_PROPS.has(key)) problems.push(`${at}: "${key}" is not a JSONSchemaProps field`);
    else if (FORBIDDEN.has(key)) problems.push(`${at}: "${key}" is forbidden in a CRD schema`);
  }
  if (node.uniqueItems === true) problems.push(`${at}: uniqueItems cannot be true`);
  if (node['x-kubernetes-preserve-unknown-fields'] === false) problems.push(`${at}: x-kubernetes-preserve-unknown-fields must be true or absent`);
  const exempt = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;

  if (inJunctor) {
    for (const key of NOT_IN_JUNCTORS) if (key in node) problems.push(`${at}: ${key} is not allowed inside allOf/anyOf/oneOf/not`);
    for (const key of Object.keys(node)) if (key.startsWith('x-kubernetes-')) problems.push(`${at}: ${key} is not allowed inside allOf/anyOf/oneOf/not`);
  } else if (!exempt) {
    if (typeof node.type !== 'string' || node.type === '') problems.push(`${at}: every node needs a non-empty type`);
  }
  if (node.type !== undefined && !TYPES.has(String(node.type))) problems.push(`${at}: unknown type "${String(node.type)}"`);
  if (typeof node.format === 'string' && !KUBERNETES_FORMATS.has(node.format)) problems.push(`${at}: format "${node.format}" is unknown to Kubernetes`);
  if (typeof node.pattern === 'string') {
    const problem = patternProblem(node.pattern);
    if (problem) problems.push(`${at}: pattern ${problem}`);
  }
  if ('additionalProperties' in node) {
    if (node.additionalProperties === false) problems.push(`${at}: additionalProperties cannot be false`);
    if ('properties' in node) problems.push(`${at}: properties and additionalProperties are mutually exclusive`);
  }
  if ('items' in node && !isJsonObject(node.items)) problems.push(`${at}: items must be a single schema`);
  if (Array.isArray(node.required)) {
    const declared = isJsonObject(node.properties) ? node.properties : undefined;
    for (const name of node.required as unknown[]) {
      if (typeof name !== 'string') problems.push(`${at}: required must list strings`);
      else if (!inJunctor && declared && !(name in declared)) problems.push(`${at}: required "${name}" is not among the properties`);
    }
  }
  // The root's metadata is ObjectMeta, which the API server knows without a schema.
  const rootMetadata = path === 'metadata';
  if (node.type === 'object' && !exempt && !inJunctor && !rootMetadata && node.properties === undefined && node.additionalProperties === undefined) {
    problems.push(`${at}: an object needs properties, additionalProperties or x-kubernetes-preserve-unknown-fields (everything else is pruned)`);
  }

  if (isJsonObject(node.properties)) {
    for (const [name, child] of Object.entries(node.properties)) {
      if (!isJsonObject(child)) problems.push(`${join(path, name)}: must be a schema`);
      else walk(child, join(path, name), inJunctor, problems);
    }
  }
  if (isJsonObject(node.additionalProperties)) walk(node.additionalProperties, `${path}[*]`, inJunctor, problems);
  if (isJsonObject(node.items)) walk(node.items, `${path}[]`, inJunctor, problems);

  for (const junctor of JUNCTORS) {
    const value = node[junctor];
    if (value === undefined) continue;
    const branches = junctor === 'not' ? [value] : Array.isArray(value) ? value : [];
    if (branches.length === 0) problems.push(`${at}: ${junctor} needs at least one schema`);
    for (const branch of branches) {
      if (!isJsonObject(branch)) {
        problems.push(`${at}: ${junctor} entries must be schemas`);
        continue;
      }
      walk(branch, `${path}(${junctor})`, true, problems);
      specifiedOutside(branch, node, `${path}(${junctor})`, problems);
    }
  }
}

/** Rule 2: every field and item named inside a junctor is specified by the structural schema outside it. */
function specifiedOutside(inner: JsonSchema, outer: JsonSchema, path: string, problems: string[]): void {
  if (isJsonObject(inner.properties)) {
    const outside = isJsonObject(outer.properties) ? outer.properties : {};
    for (const [name, child] of Object.entries(inner.properties)) {
      const counterpart = outside[name];
      if (!isJsonObject(counterpart)) {
        if (outer['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${join(path, name)}: named inside a junctor but not outside it`);
      } else if (isJsonObject(child)) specifiedOutside(child, counterpart, join(path, name), problems);
    }
  }
  if (isJsonObject(inner.items)) {
    if (!isJsonObject(outer.items)) problems.push(`${path}[]: items named inside a junctor but not outside it`);
    else specifiedOutside(inner.items, outer.items, `${path}[]`, problems);
  }
}

/**
 * Why a `pattern` would not work in the API server, which compiles it with Go's regexp (RE2 syntax), or undefined.
 * It must also compile as ECMAScript, since clients (and the tests) validate with JavaScript engines.
 */
export function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    return `does not compile: ${(error as Error).message}`;
  }
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return `uses a backreference (\\${next}), which RE2 lacks`;
      if (next === 'k' && pattern[i + 2] === '<') return 'uses a named backreference, which RE2 lacks';
      if (next === 'u' || next === 'c') return `uses \\${next}, which RE2 lacks (write \\x{…} for a code point)`;
      i++;
    } else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (!inClass && char === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') return 'uses a lookaround, which RE2 lacks';
    }
  }
  return undefined;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}
