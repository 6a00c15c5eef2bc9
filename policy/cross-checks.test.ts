import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicyTexts } from './load.ts';
import type { LoadOptions } from './load.ts';

const ENDPOINTS = `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: catalog }
spec: { endpoints: [{ address: "127.0.0.1:8080" }] }
`;

/** Loads `text` as routes.yaml beside an endpoints.yaml for Service default/catalog; errors as `file:line:column path: message`. */
function errorsOf(text: string, options: LoadOptions = {}): string[] {
  const result = loadPolicyTexts(
    [
      { file: 'routes.yaml', text },
      { file: 'endpoints.yaml', text: ENDPOINTS },
    ],
    options,
  );
  return result.ok ? [] : result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`);
}

function route(name: string, rules: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  parentRefs: [{ name: catalog }]
  rules:
${rules}`;
}

describe('checks across resources', () => {
  it('requires endpoints for every backend, mirror and fallback Service, unless turned off', () => {
    const text = `${route(
      'catalog',
      `    - backendRefs:
        - name: catalog
        - name: payments
          namespace: shop
      filters:
        - type: RequestMirror
          requestMirror: { backendRef: { name: shadow } }
`,
    )}---
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ name: catalog }]
  fallback: { backendRef: { name: static } }
`;
    assert.deepEqual(errorsOf(text), [
      'routes.yaml:9:17 spec.rules[0].backendRefs[1].name: Service "shop/payments" has no endpoints: add a ServiceEndpoints with metadata.name "payments" and metadata.namespace "shop"',
      'routes.yaml:13:48 spec.rules[0].filters[0].requestMirror.backendRef.name: Service "default/shadow" has no endpoints: add a ServiceEndpoints with metadata.name "shadow" and metadata.namespace "default"',
      'routes.yaml:20:35 spec.fallback.backendRef.name: Service "default/static" has no endpoints: add a ServiceEndpoints with metadata.name "static" and metadata.namespace "default"',
    ]);
    assert.deepEqual(errorsOf(text, { requireEndpoints: false }), []);
  });

  it('rejects two resources of the same kind, namespace and name', () => {
    const rules = '    - backendRefs: [{ name: catalog }]\n';
    const errors = errorsOf(`${route('catalog', rules)}---\n${route('catalog', rules)}`);
    assert.deepEqual(errors, ['routes.yaml:11:19 metadata.name: duplicate HTTPRoute "default/catalog", already defined at routes.yaml:1']);
  });

  it('allows one Mesh only', () => {
    const mesh = (name: string) => `apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: ${name} }\n`;
    assert.deepEqual(errorsOf(`${mesh('a')}---\n${mesh('b')}`), [
      'routes.yaml:6:7 kind: only one Mesh is allowed, and one is already defined at routes.yaml:1',
    ]);
  });

  it('allows one TrafficPolicy per Service', () => {
    const policy = (name: string, targets: string) =>
      `apiVersion: outrigger.dev/v1alpha1\nkind: TrafficPolicy\nmetadata: { name: ${name} }\nspec:\n  targetRefs: ${targets}\n`;
    const text = `${policy('a', '[{ name: catalog }]')}---\n${policy('b', '[{ name: reviews }, { name: catalog, namespace: default }]')}---\n${policy('c', '[{ name: x }, { name: x }]')}`;
    assert.deepEqual(errorsOf(text), [
      'routes.yaml:11:43 spec.targetRefs[1].name: Service "default/catalog" is already targeted by TrafficPolicy "default/a" at routes.yaml:1; a Service takes one TrafficPolicy, so merge them',
      'routes.yaml:17:37 spec.targetRefs[1].name: Service "default/x" is listed twice in targetRefs',
    ]);
  });
});

describe('checks within an HTTPRoute', () => {
  it('rejects RequestRedirect together with backendRefs or URLRewrite', () => {
    const text = route(
      'catalog',
      `    - filters:
        - type: RequestRedirect
          requestRedirect: { scheme: https }
        - type: URLRewrite
          urlRewrite: { hostname: example.com }
      backendRefs: [{ name: catalog }]
`,
    );
    assert.deepEqual(errorsOf(text), [
      'routes.yaml:8:11 spec.rules[0].filters[0]: RequestRedirect cannot be combined with backendRefs: a redirected request is answered by the sidecar and never forwarded',
      'routes.yaml:10:11 spec.rules[0].filters[1]: URLRewrite cannot be combined with RequestRedirect in the same filters',
    ]);
  });

  it('rejects a filter type used twice, except RequestMirror', () => {
    const text = route(
      'catalog',
      `    - filters:
        - { type: RequestHeaderModifier, requestHeaderModifier: { remove: [x-a] } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: catalog } } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: catalog } } }
        - { type: RequestHeaderModifier, requestHeaderModifier: { remove: [x-b] } }
      backendRefs: [{ name: catalog }]
`,
    );
    assert.deepEqual(errorsOf(text), [
      'routes.yaml:11:19 spec.rules[0].filters[3].type: filter RequestHeaderModifier appears more than once; combine them into one',
    ]);
  });

  it('rejects unsafe, invalid and RE2-incompatible regular expressions with the reason', () => {
    const text = route(
      'catalog',
      `    - matches:
        - path: { type: RegularExpression, value: "(a+)+$" }
        - headers: [{ type: RegularExpression, name: x-id, value: "^(?!admin)" }]
        - queryParams: [{ type: RegularExpression, name: q, value: "(" }]
        - path: { type: PathPrefix, value: "(a+)+$" }
      backendRefs: [{ name: catalog }]
`,
    );
    assert.deepEqual(errorsOf(text), [
      'routes.yaml:8:51 spec.rules[0].matches[0].path.value: regular expression may backtrack catastrophically: nested quantifiers such as "(a+)+" or more than 25 quantifiers are not allowed',
      'routes.yaml:9:67 spec.rules[0].matches[1].headers[0].value: negative lookahead "(?!" is not supported: match values use RE2 syntax, which has no lookarounds or backreferences',
      'routes.yaml:10:68 spec.rules[0].matches[2].queryParams[0].value: invalid regular expression: Unterminated group',
      'routes.yaml:11:44 spec.rules[0].matches[3].path.value: a path of type PathPrefix must start with "/"',
    ]);
  });
});
