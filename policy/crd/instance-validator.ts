import { Ajv, type ErrorObject } from 'ajv';
import { isJsonObject, type JsonSchema } from './structural.ts';

/**
 * Validates custom resources against a CRD's `openAPIV3Schema` with Ajv, as `kubectl apply` would have the API
 * server do it with strict field validation (kubectl's default): unknown fields are errors, not silently pruned.
 * For tests and tooling only (Ajv is a devDependency); nothing at run time imports this.
 */

export interface InstanceProblem {
  readonly path: string;
  readonly message: string;
}

export type InstanceValidator = (resource: unknown) => InstanceProblem[];

/** The `openAPIV3Schema` of the CRD's storage version. */
export function storageSchema(crd: JsonSchema): JsonSchema {
  const spec = isJsonObject(crd.spec) ? crd.spec : {};
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
  const version = versions.find((v) => v.storage === true) ?? versions[0];
  const schema = version && isJsonObject(version.schema) ? version.schema.openAPIV3Schema : undefined;
  if (!isJsonObject(schema)) throw new Error('the CRD has no openAPIV3Schema');
  return schema;
}

export function crdInstanceValidator(crd: JsonSchema): InstanceValidator {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, unicodeRegExp: true });
  for (const keyword of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
    'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations', 'example']) {
    ajv.addKeyword({ keyword });
  }
  // Go's url.ParseRequestURI and time.Parse(RFC3339) are what the API server uses; these are close enough for examples.
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('date-time', (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(value) && !Number.isNaN(Date.parse(value)));
  const schema = closed(structuredClone(storageSchema(crd)));
  const properties = schema.properties as JsonSchema;
  // ObjectMeta is the API server's; every object needs a name.
  properties.metadata = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } };
  const validate = ajv.compile(schema);
  return (resource) => (validate(resource) ? [] : (validate.errors ?? []).map(describe));
}

/** Strict field validation: an object that lists its properties accepts no others (unless it preserves unknowns). */
function closed(node: JsonSchema): JsonSchema {
  if (isJsonObject(node.properties)) {
    for (const child of Object.values(node.properties)) if (isJsonObject(child)) closed(child);
    if (node['x-kubernetes-preserve-unknown-fields'] !== true && node.additionalProperties === undefined) node.additionalProperties = false;
  }
  if (isJsonObject(node.additionalProperties)) closed(node.additionalProperties);
  if (isJsonObject(node.items)) closed(node.items);
  return node;
}

function describe(error: ErrorObject): InstanceProblem {
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const detail = error.keyword === 'additionalProperties' ? `unknown field "${String(error.params.additionalProperty)}"` : (error.message ?? error.keyword);
  return { path: path === '' ? '(root)' : path, message: detail };
}
