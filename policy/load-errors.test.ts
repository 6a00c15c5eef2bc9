import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_FILE_BYTES } from './documents.ts';
import { loadPolicyTexts } from './load.ts';
import type { ConfigError } from './load.ts';

/** Loads one file and returns its errors as `line:column path: message`. */
function errorsOf(text: string): string[] {
  return allErrors([{ file: 'test.yaml', text }]).map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

function allErrors(files: { file: string; text: string }[]): ConfigError[] {
  const result = loadPolicyTexts(files, { requireEndpoints: false });
  assert.equal(result.ok, false, 'expected errors');
  return result.ok ? [] : result.errors;
}

describe('schema errors', () => {
  it('reports an unknown field at its key, suggesting the field that was meant', () => {
    const text = `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata:
  name: catalog
spec:
  endpoints:
    - address: 127.0.0.1:80
      weigth: 2
`;
    assert.deepEqual(errorsOf(text), ['8:7 spec.endpoints[0].weigth: unknown field "weigth" (did you mean "weight"?)']);
  });

  it('reports wrong types at the value', () => {
    const text = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs:
    - name: catalog
      port: "80"
  rules:
    - backendRefs:
        - { name: catalog, weight: 1.5 }
      matches: { path: /a }
`;
    assert.deepEqual(errorsOf(text), [
      '7:13 spec.parentRefs[0].port: expected number, got string',
      '10:36 spec.rules[0].backendRefs[0].weight: expected an integer, got 1.5',
      '11:16 spec.rules[0].matches: expected list, got mapping',
    ]);
  });

  it('reports a missing required field at the nearest ancestor that exists', () => {
    const text = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  namespace: shop
spec:
  hostnames: [catalog.shop]
`;
    assert.deepEqual(errorsOf(text), [
      '3:1 metadata.name: missing required field "name"',
      '5:1 spec.parentRefs: missing required field "parentRefs"',
    ]);
  });

  it('lists the allowed values of an enum or a union of literals', () => {
    const text = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs: [{ name: catalog }]
  rules:
    - matches: [{ method: GOT }]
      filters:
        - type: RequestRedirect
          requestRedirect: { statusCode: 304 }
        - type: Rewrite
`;
    assert.deepEqual(errorsOf(text), [
      '7:27 spec.rules[0].matches[0].method: expected one of "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", got "GOT"',
      '10:42 spec.rules[0].filters[0].requestRedirect.statusCode: expected one of 301, 302, 303, 307, 308, got 304',
      '11:17 spec.rules[0].filters[1].type: expected one of "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "RequestMirror", got "Rewrite"',
    ]);
  });

  it('explains ranges, formats, refinements and unions', () => {
    const text = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: Catalog }
spec:
  targetRefs: []
  retry: { numRetries: 11 }
  timeout: { http: { requestTimeout: 10 } }
  loadBalancer: { type: ConsistentHash }
  fallback: { response: { status: 503 }, backendRef: { name: b } }
`;
    assert.deepEqual(errorsOf(text), [
      '3:19 metadata.name: must be a lowercase RFC 1123 subdomain',
      '5:15 spec.targetRefs: must have at least 1 item',
      '6:24 spec.retry.numRetries: must be at most 10, got 11',
      '7:38 spec.timeout.http.requestTimeout: expected string, got number',
      '8:17 spec.loadBalancer.consistentHash: type ConsistentHash needs consistentHash',
      '9:13 spec.fallback: set only one of the fields "backendRef", "response"',
    ]);
  });
});

describe('document errors', () => {
  it('rejects documents that are not mappings or lack apiVersion and kind', () => {
    const errors = errorsOf(`- a list
---
"a string"
---
kind: Mesh
`);
    assert.equal(errors.length, 3);
    assert.equal(errors[0], '1:1 : a document must be a mapping with apiVersion, kind, metadata and spec; got a list');
    assert.equal(errors[1], '3:1 : a document must be a mapping with apiVersion, kind, metadata and spec; got a string');
    assert.match(errors[2] ?? '', /^5:1 : missing apiVersion; known kinds: HTTPRoute \(gateway\.networking\.k8s\.io\/v1\), TrafficPolicy/);
  });

  it('names the known kinds for an unknown kind, and the right apiVersion for a known one', () => {
    const errors = errorsOf(`apiVersion: v1
kind: Service
---
apiVersion: outrigger.dev/v1
kind: Mesh
`);
    assert.match(errors[0] ?? '', /^2:7 kind: unknown kind "Service" \(apiVersion "v1"\); known kinds: HTTPRoute .*Mesh \(outrigger\.dev\/v1alpha1\)$/);
    assert.equal(errors[1], '4:13 apiVersion: unknown apiVersion "outrigger.dev/v1" for kind Mesh; use outrigger.dev/v1alpha1');
  });

  it('reports YAML syntax errors where they are, and still checks the other documents', () => {
    const errors = errorsOf(`apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: [mesh }
---
apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: Mesh }
`);
    assert.ok(errors.length >= 1);
    assert.match(errors[0] ?? '', /^3:\d+ : YAML: /);
    assert.equal(errors.at(-1), '7:19 metadata.name: must be a lowercase RFC 1123 subdomain');
  });

  it('rejects duplicate keys at the second occurrence', () => {
    assert.deepEqual(
      errorsOf(`apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata:
  name: a
  name: b
`),
      ['5:3 : YAML: duplicate key "name" (first at line 4)'],
    );
  });

  it('treats keys that become the same string as duplicates', () => {
    assert.deepEqual(errorsOf('1: a\n"1": b\n'), ['2:1 : YAML: duplicate key "1" (first at line 1)']);
  });

  it('rejects tags beyond the core schema', () => {
    const errors = errorsOf(`apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: !!binary bWVzaA== }
spec: !custom {}
`);
    assert.deepEqual(errors, [
      '3:19 : YAML: Unresolved tag: tag:yaml.org,2002:binary',
      '4:7 : YAML: Unresolved tag: !custom',
    ]);
  });

  it('reads YAML 1.1 files with the 1.2 core schema: no yes/no booleans, no merge keys', () => {
    const errors = errorsOf(`%YAML 1.1
---
apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: mesh, labels: { enabled: yes } }
spec:
  <<: { clusterDomain: example.com }
`);
    assert.deepEqual(errors, ['7:3 spec["<<"]: unknown field "<<"']);
  });

  it('rejects a file over 4 MiB without parsing it', () => {
    const text = `# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    assert.deepEqual(errorsOf(text), [`1:1 : file is ${MAX_FILE_BYTES + 3} bytes; the limit is ${MAX_FILE_BYTES} (4 MiB)`]);
  });

  it('sorts errors by file, then line', () => {
    const bad = 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: M }\nspec: { reasonHeader: Sometimes }\n';
    const errors = allErrors([
      { file: 'b.yaml', text: bad },
      { file: 'a.yaml', text: bad },
    ]);
    assert.deepEqual(
      errors.map((e) => `${e.file}:${e.line}`),
      ['a.yaml:3', 'a.yaml:4', 'b.yaml:3', 'b.yaml:4'],
    );
  });
});
