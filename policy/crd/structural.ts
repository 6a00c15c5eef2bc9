/**
 * Turns the JSON Schema that zod 4 emits (`z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' })`) into a
 * Kubernetes structural schema (apiextensions.k8s.io/v1 `openAPIV3Schema`):
 *
 * - no `$ref`, `$schema`, `const` or `default`: references are refused (zod inlines unless a schema is recursive),
 *   `const` becomes a one-value `enum`, and defaults are left to the loader (see `README.md` beside this file);
 * - no `additionalProperties: false` (Kubernetes forbids it next to `properties`; unknown fields are pruned by the
 *   API server, or refused outright by `kubectl`'s strict field validation, its default);
 * - a `type` on every node; a union of objects becomes one object with every branch's properties plus a `oneOf` of
 *   `required` lists and discriminator `enum`s (value validations only, as Kubernetes allows inside junctors); a
 *   union of one-type enums becomes one `enum`;
 * - formats Kubernetes does not know are dropped, as the API server would drop them; so are the ±2^53−1 bounds zod
 *   puts on every `.int()`.
 *
 * Anything it cannot translate faithfully (intersections, `not`, unions of different types or of overlapping
 * branches, an untyped node other than `status`) throws with the field path, so a schema change that the CRD
 * cannot express fails the generator rather than producing a CRD that accepts something different.
 */

export type JsonSchema = { [key: string]: unknown };

/** The string formats the Kubernetes API server validates; others are dropped (with a warning) by the server. */
export const KUBERNETES_FORMATS: ReadonlySet<string> = new Set([
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5',
  'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date', 'duration',
  'datetime', 'date-time',
]);

/** Keywords copied as they are: value validations and annotations that JSONSchemaProps has. */
const PASSTHROUGH = new Set([
  'type', 'description', 'title', 'enum', 'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties',
  'maxProperties', 'multipleOf', 'exclusiveMinimum', 'exclusiveMaximum', 'required', 'nullable', 'example',
]);

/** Keywords zod emits that carry nothing Kubernetes should see. */
const DROPPED = new Set(['$schema', '$id', 'id', 'default', 'examples']);

/** Output key order, so generated YAML reads the same way for every node. */
const KEY_ORDER = [
  'description', 'type', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'exclusiveMinimum', 'maximum',
  'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'nullable', 'items',
  'properties', 'required', 'additionalProperties', 'oneOf', 'x-kubernetes-preserve-unknown-fields',
];

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

export class SchemaConversionError extends Error {
  constructor(path: string, message: string) {
    super(`${path === '' ? '(root)' : path}: ${message}`);
    this.name = 'SchemaConversionError';
  }
}

export function isJsonObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Converts one node (and everything below it). `path` names the field in errors, e.g. `spec.retry.budget`. */
export function toStructural(input: JsonSchema, path: string): JsonSchema {
  if ('$ref' in input || '$defs' in input || 'definitions' in input) {
    throw new SchemaConversionError(path, 'references ($ref/$defs) are not allowed in a CRD schema; the schema must not be recursive');
  }
  if ('allOf' in input || 'not' in input) throw new SchemaConversionError(path, 'allOf/not (intersections, negations) cannot be expressed structurally');
  if ('anyOf' in input || 'oneOf' in input) return convertUnion(input, path);
  const meaningful = Object.keys(input).filter((key) => !DROPPED.has(key));
  if (meaningful.length === 0) throw new SchemaConversionError(path, 'a schema with no type (z.unknown/z.any) has no structural form');

  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(input)) {
    if (DROPPED.has(key)) continue;
    switch (key) {
      case 'const':
        out.enum = [value];
        break;
      case 'properties': {
        if (!isJsonObject(value)) throw new SchemaConversionError(path, 'properties must be an object');
        const properties: JsonSchema = {};
        for (const [name, child] of Object.entries(value)) {
          if (!isJsonObject(child)) throw new SchemaConversionError(join(path, name), 'schema must be an object');
          properties[name] = toStructural(child, join(path, name));
        }
        out.properties = properties;
        break;
      }
      case 'additionalProperties':
        if (value === false) break; // strict objects: pruning and strict field validation do this job in Kubernetes
        if (!isJsonObject(value)) throw new SchemaConversionError(path, 'additionalProperties: true is not structural; describe the values');
        out.additionalProperties = toStructural(value, `${path}[*]`);
        break;
      case 'items':
        if (!isJsonObject(value)) throw new SchemaConversionError(path, 'items must be one schema (tuples are not structural)');
        out.items = toStructural(value, `${path}[]`);
        break;
      case 'minimum':
      case 'maximum':
        if (typeof value === 'number' && Math.abs(value) === SAFE_INTEGER_BOUND) break;
        out[key] = value;
        break;
      case 'format':
        if (typeof value === 'string' && KUBERNETES_FORMATS.has(value)) out.format = value;
        break;
      case 'required':
        if (Array.isArray(value) && value.length > 0) out.required = value;
        break;
      default:
        if (!PASSTHROUGH.has(key)) throw new SchemaConversionError(path, `keyword "${key}" is not supported in a CRD schema`);
        out[key] = value;
    }
  }
  if (typeof out.type !== 'string') throw new SchemaConversionError(path, 'every node of a structural schema needs a type');
  if (out.additionalProperties !== undefined && out.properties !== undefined) {
    throw new SchemaConversionError(path, 'properties and additionalProperties cannot be combined in a CRD schema');
  }
  return ordered(out);
}

/**
 * A union (zod emits `anyOf`). Scalars: every branch a one-type `enum` → one `enum`. Objects: the branches must be
 * mutually exclusive, by a discriminator (a property every branch requires, with one distinct value per branch) or
 * by a required property no other branch has; strict zod objects then accept exactly what `oneOf` does.
 */
function convertUnion(input: JsonSchema, path: string): JsonSchema {
  const raw = input.anyOf ?? input.oneOf;
  const extra = Object.keys(input).filter((key) => key !== 'anyOf' && key !== 'oneOf' && !DROPPED.has(key) && key !== 'description');
  if (!Array.isArray(raw) || raw.length === 0) throw new SchemaConversionError(path, 'a union needs branches');
  if (extra.length > 0) throw new SchemaConversionError(path, `a union with ${extra.join(', ')} beside it cannot be merged`);
  const branches = raw.map((branch, i) => {
    if (!isJsonObject(branch)) throw new SchemaConversionError(path, `union branch ${i} must be an object`);
    return toStructural(branch, path);
  });
  const types = new Set(branches.map((b) => b.type));
  if (types.size !== 1) throw new SchemaConversionError(path, `a union of different types (${[...types].join(', ')}) is not structural`);
  const [type] = types;
  const description = typeof input.description === 'string' ? { description: input.description } : {};

  if (type !== 'object') {
    const values: unknown[] = [];
    for (const branch of branches) {
      if (!Array.isArray(branch.enum) || Object.keys(branch).some((key) => key !== 'type' && key !== 'enum')) {
        throw new SchemaConversionError(path, `only unions of ${String(type)} enums/literals can be merged`);
      }
      for (const value of branch.enum) if (!values.includes(value)) values.push(value);
    }
    return ordered({ ...description, type, enum: values });
  }

  const properties: JsonSchema = {};
  for (const branch of branches) {
    if (branch.additionalProperties !== undefined || branch.oneOf !== undefined) {
      throw new SchemaConversionError(path, 'union branches must be plain objects with properties');
    }
    for (const [name, schema] of Object.entries(propertiesOf(branch))) {
      const known = properties[name];
      properties[name] = known === undefined ? schema : mergeProperty(known as JsonSchema, schema as JsonSchema, join(path, name));
    }
  }
  const requiredOf = branches.map((b) => (Array.isArray(b.required) ? (b.required as string[]) : []));
  const requiredByAll = (requiredOf[0] ?? []).filter((name) => requiredOf.every((list) => list.includes(name)));

  const oneOf = branches.map((branch, i) => {
    const own = propertiesOf(branch);
    const required = requiredOf[i] ?? [];
    const exclusiveKey = required.find((name) => branches.every((other, j) => j === i || !(name in propertiesOf(other))));
    const discriminator = requiredByAll.find((name) => {
      const values = branches.map((b) => singleEnum(propertiesOf(b)[name]));
      return values.every((v) => v !== undefined) && new Set(values).size === branches.length;
    });
    if (exclusiveKey === undefined && discriminator === undefined) {
      throw new SchemaConversionError(path, `union branch ${i} overlaps the others: it needs a required property of its own or a discriminator`);
    }
    const alternative: JsonSchema = {};
    if (required.length > 0) alternative.required = required;
    if (discriminator !== undefined) alternative.properties = { [discriminator]: { enum: [singleEnum(own[discriminator])] } };
    return alternative;
  });

  const merged: JsonSchema = { ...description, type: 'object', properties };
  if (requiredByAll.length > 0) merged.required = requiredByAll;
  merged.oneOf = oneOf;
  return ordered(merged);
}

function mergeProperty(a: JsonSchema, b: JsonSchema, path: string): JsonSchema {
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  const isEnum = (s: JsonSchema): boolean => Array.isArray(s.enum) && Object.keys(s).every((key) => key === 'type' || key === 'enum' || key === 'description');
  if (isEnum(a) && isEnum(b) && a.type === b.type) {
    const values = [...(a.enum as unknown[])];
    for (const value of b.enum as unknown[]) if (!values.includes(value)) values.push(value);
    return ordered({ ...a, enum: values });
  }
  throw new SchemaConversionError(path, 'union branches give this property different schemas');
}

function propertiesOf(schema: JsonSchema): JsonSchema {
  return isJsonObject(schema.properties) ? schema.properties : {};
}

function singleEnum(schema: unknown): unknown {
  return isJsonObject(schema) && Array.isArray(schema.enum) && schema.enum.length === 1 ? schema.enum[0] : undefined;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function ordered(schema: JsonSchema): JsonSchema {
  const rank = (key: string): number => {
    const i = KEY_ORDER.indexOf(key);
    return i === -1 ? KEY_ORDER.length : i;
  };
  return Object.fromEntries(Object.entries(schema).sort(([a], [b]) => rank(a) - rank(b)));
}
