/** The demo mesh's policy YAML, written with the ports the demo chose so `--base-port` can move everything. */
export function frontendConfig(catalogInbounds: number[]): Record<string, string> {
  return {
    'catalog-endpoints.yaml': `# Where the catalog Service lives: the inbound listeners of the catalog replicas' sidecars.
apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata:
  name: catalog
spec:
  endpoints:
${catalogInbounds.map((port) => `    - address: 127.0.0.1:${port}`).join('\n')}
`,
    'catalog-route.yaml': `# Calls to catalog get a header added, and a 2 s deadline. Edit this file while the demo runs: it reloads.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: catalog
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: catalog
  rules:
    - matches:
        - path: { type: PathPrefix, value: /items }
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            add:
              - { name: x-demo-caller, value: frontend }
      timeouts:
        request: 2s
`,
    'catalog-policy.yaml': `# Balance catalog calls with power-of-two-choices least-request (the default, spelled out).
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata:
  name: catalog
spec:
  targetRefs:
    - group: ""
      kind: Service
      name: catalog
  loadBalancer:
    type: LeastRequest
`,
  };
}

export function catalogConfig(): Record<string, string> {
  return {
    'mesh.yaml': `# Catalog sidecars only receive traffic; mesh-wide settings are all they need.
apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata:
  name: default
spec:
  reasonHeader: Always
`,
  };
}
