import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { KINDS } from '../schema/index.ts';
import { GROUP } from './crds.ts';
import { CRD_DIR, crdDrift } from './generate.ts';
import { repositoryExamples, isRecord, type ExampleDocument } from './examples.ts';
import { crdInstanceValidator, storageSchema, type InstanceValidator } from './instance-validator.ts';
import { toStructural, SchemaConversionError, type JsonSchema } from './structural.ts';
import { patternProblem, structuralProblems } from './structural-rules.ts';

const OUR_API_VERSION = `${GROUP}/v1alpha1`;

function committedCrds(): JsonSchema[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.startsWith(`${GROUP}_`))
    .sort()
    .map((f) => parse(readFileSync(join(CRD_DIR, f), 'utf8')) as JsonSchema);
}

function kindOf(crd: JsonSchema): string {
  const spec = crd.spec as { names: { kind: string } };
  return spec.names.kind;
}

function validationErrors(error: unknown): string {
  const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
  return errors ? errors.map((e) => `${e.instancePath || '(root)'}: ${e.message ?? ''}`).join('; ') : String(error);
}

test('the committed CRDs are exactly what policy/crd/generate.ts writes (run `npx node policy/crd/generate.ts`)', () => {
  assert.deepEqual(crdDrift(), []);
});

test('one CRD per outrigger.dev kind in policy/schema, none for HTTPRoute (it comes from the Gateway API release)', () => {
  const ours = Object.keys(KINDS).filter((key) => key.startsWith(`${GROUP}/`)).map((key) => key.split('/')[2]).sort();
  assert.deepEqual(committedCrds().map(kindOf).sort(), ours);
  assert.ok(!committedCrds().some((crd) => kindOf(crd) === 'HTTPRoute'));
});

test('each CRD validates against the official apiextensions.k8s.io/v1 CustomResourceDefinition schema', () => {
  for (const crd of committedCrds()) {
    const model = new CustomResourceDefinition(crd as never);
    assert.doesNotThrow(() => model.validate(), (error: unknown) => `${kindOf(crd)}: ${validationErrors(error)}`);
  }
});

test('each CRD is named <plural>.<group>, served and stored in one version, with lower-case names', () => {
  for (const crd of committedCrds()) {
    const { group, names, versions, scope } = crd.spec as {
      group: string; scope: string; names: { plural: string; singular: string; kind: string; listKind: string };
      versions: { name: string; served: boolean; storage: boolean }[];
    };
    const metadata = crd.metadata as { name: string };
    assert.equal(group, GROUP);
    assert.equal(metadata.name, `${names.plural}.${group}`);
    for (const name of [names.plural, names.singular]) assert.match(name, /^[a-z][a-z0-9]*$/);
    assert.equal(names.listKind, `${names.kind}List`);
    assert.ok(scope === 'Namespaced' || scope === 'Cluster');
    assert.deepEqual(versions.map((v) => [v.name, v.served, v.storage]), [['v1alpha1', true, true]]);
  }
});

test('each openAPIV3Schema is structural: types everywhere, no $ref, no additionalProperties beside properties, junctors only validate', () => {
  for (const crd of committedCrds()) assert.deepEqual(structuralProblems(storageSchema(crd)), [], kindOf(crd));
});

test('the structural checker catches what the API server refuses', () => {
  const root = (spec: JsonSchema): JsonSchema => ({ type: 'object', properties: { spec } });
  const problems = (spec: JsonSchema): string => structuralProblems(root(spec)).join('\n');
  assert.match(problems({ properties: { a: { type: 'string' } } }), /spec: every node needs a non-empty type/);
  assert.match(problems({ type: 'object', properties: { a: { $ref: '#/x' } } }), /"\$ref" is forbidden/);
  assert.match(problems({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }), /additionalProperties cannot be false/);
  assert.match(problems({ type: 'object', properties: { a: { type: 'string', const: 'x' } } }), /"const" is not a JSONSchemaProps field/);
  assert.match(problems({ type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ type: 'object', required: ['a'] }] }), /type is not allowed inside/);
  assert.match(problems({ type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ properties: { b: { enum: ['x'] } } }] }), /spec\(anyOf\)\.b: named inside a junctor but not outside it/);
  assert.match(problems({ type: 'object' }), /an object needs properties/);
  assert.match(problems({ type: 'string', format: 'url' }), /format "url" is unknown/);
  assert.match(problems({ type: 'string', pattern: '^(?=a)' }), /lookaround/);
  assert.match(structuralProblems({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }).join('\n'), /only restrictions on metadata.name/);
  assert.match(structuralProblems({ type: 'object', oneOf: [{ required: ['spec'] }], properties: { spec: { type: 'string' } } }).join('\n'), /oneOf is not allowed at the root/);
});

test('every pattern compiles as RE2 would have it (no lookarounds, no backreferences)', () => {
  const patterns: string[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (isRecord(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'pattern' && typeof value === 'string') patterns.push(value);
        else collect(value);
      }
    }
  };
  committedCrds().forEach((crd) => collect(storageSchema(crd)));
  assert.ok(patterns.length > 5);
  for (const pattern of patterns) assert.equal(patternProblem(pattern), undefined, pattern);
  assert.match(patternProblem('(a)\\1') ?? '', /backreference/);
});

test('the converter refuses what a CRD cannot express, naming the field', () => {
  assert.throws(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'integer' }] }, 'spec.x'), /spec\.x: a union of different types/);
  assert.throws(() => toStructural({ allOf: [{ type: 'object' }] }, 'spec.y'), SchemaConversionError);
  assert.throws(() => toStructural({}, 'spec.z'), /spec\.z: a schema with no type/);
  assert.throws(
    () => toStructural({ anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } }] }, 'spec.u'),
    /overlaps the others/,
  );
  // A discriminated union merges into one object whose oneOf keeps the branches apart.
  const merged = toStructural(
    {
      anyOf: [
        { type: 'object', properties: { type: { type: 'string', const: 'A' }, a: { type: 'string' } }, required: ['type', 'a'], additionalProperties: false },
        { type: 'object', properties: { type: { type: 'string', const: 'B' }, b: { type: 'integer' } }, required: ['type'], additionalProperties: false },
      ],
    },
    'spec.f',
  );
  assert.deepEqual(merged, {
    type: 'object',
    properties: { type: { type: 'string', enum: ['A', 'B'] }, a: { type: 'string' }, b: { type: 'integer' } },
    required: ['type'],
    oneOf: [{ required: ['type', 'a'], properties: { type: { enum: ['A'] } } }, { required: ['type'], properties: { type: { enum: ['B'] } } }],
  });
});

function validators(): Map<string, InstanceValidator> {
  return new Map(committedCrds().map((crd) => [kindOf(crd), crdInstanceValidator(crd)]));
}

function examplesOf(apiVersion: string, kind?: string): ExampleDocument[] {
  return repositoryExamples().filter(({ doc }) => isRecord(doc) && doc.apiVersion === apiVersion && (kind === undefined || doc.kind === kind));
}

test('every Outrigger example in the repository validates against its generated CRD schema, and the zod schema agrees', (t) => {
  const byKind = validators();
  const examples = examplesOf(OUR_API_VERSION);
  const seen = new Map<string, string[]>();
  for (const { where, doc } of examples) {
    const kind = String((doc as Record<string, unknown>).kind);
    const validate = byKind.get(kind);
    assert.ok(validate, `${where}: no CRD for kind ${kind}`);
    assert.deepEqual(validate(doc), [], `${where} (${kind}) against its CRD`);
    const schema = KINDS[`${OUR_API_VERSION}/${kind}` as keyof typeof KINDS];
    const parsed = schema.safeParse(doc);
    assert.ok(parsed.success, `${where}: the zod schema refuses it: ${parsed.error?.message ?? ''}`);
    seen.set(kind, [...(seen.get(kind) ?? []), where]);
  }
  for (const kind of byKind.keys()) assert.ok(seen.has(kind), `no example of ${kind} anywhere in the repository (add one, e.g. to manifests/examples/)`);
  t.diagnostic(`validated ${examples.length} examples: ${[...seen].map(([kind, list]) => `${kind} ${list.length}`).join(', ')}`);
});

test('what the zod schema refuses, the CRD schema refuses too (where a structural schema can say it)', () => {
  const byKind = validators();
  const trafficPolicy = (spec: Record<string, unknown>): unknown => ({ apiVersion: OUR_API_VERSION, kind: 'TrafficPolicy', metadata: { name: 'x' }, spec });
  const target = [{ name: 'catalog' }];
  const refused: [string, unknown][] = [
    ['unknown field', trafficPolicy({ targetRefs: target, retries: {} })],
    ['no targetRefs', trafficPolicy({})],
    ['bad enum', trafficPolicy({ targetRefs: target, loadBalancer: { type: 'Fastest' } })],
    ['bad duration', trafficPolicy({ targetRefs: target, timeout: { http: { requestTimeout: '10 seconds' } } })],
    ['out of range', trafficPolicy({ targetRefs: target, retry: { numRetries: 11 } })],
    ['not an integer', trafficPolicy({ targetRefs: target, retry: { numRetries: 1.5 } })],
    ['fallback with both', trafficPolicy({ targetRefs: target, fallback: { response: { status: 503 }, backendRef: { name: 'b' } } })],
    ['fallback with neither', trafficPolicy({ targetRefs: target, fallback: {} })],
    ['header value with CR', trafficPolicy({ targetRefs: target, faultInjection: { headers: [{ name: 'x', value: 'a\rb' }] } })],
    ['bad target kind', trafficPolicy({ targetRefs: [{ kind: 'Pod', name: 'x' }] })],
  ];
  const validate = byKind.get('TrafficPolicy');
  assert.ok(validate);
  for (const [why, doc] of refused) {
    assert.equal(KINDS['outrigger.dev/v1alpha1/TrafficPolicy'].safeParse(doc).success, false, `zod: ${why}`);
    assert.notDeepEqual(validate(doc), [], `CRD: ${why}`);
  }
  assert.deepEqual(validate(trafficPolicy({ targetRefs: target, fallback: { backendRef: { name: 'b' } } })), []);
});

test('HTTPRoute examples validate against the Gateway API HTTPRoute schema (gateway.networking.k8s.io/v1)', (t) => {
  const routes = examplesOf('gateway.networking.k8s.io/v1', 'HTTPRoute');
  assert.ok(routes.length > 0);
  const implicitKind: string[] = [];
  for (const { where, doc } of routes) {
    assert.doesNotThrow(() => new HTTPRoute(doc as never).validate(), (error: unknown) => `${where}: ${validationErrors(error)}`);
    const parentRefs = ((doc as { spec?: { parentRefs?: { kind?: string }[] } }).spec?.parentRefs ?? []);
    if (parentRefs.some((ref) => ref.kind === undefined)) implicitKind.push(where);
  }
  // In a cluster the API server defaults parentRefs[].kind to Gateway; Outrigger's schema defaults it to Service.
  if (implicitKind.length > 0) t.diagnostic(`parentRefs without kind (the Gateway API defaults them to kind: Gateway): ${implicitKind.join(', ')}`);
});
