import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createAutoscalingRoutes } from './routes.ts';
import { fixedSource, policyOf, serveRoutes } from './test-fixtures.ts';

/**
 * JSON shapes of the upstream Go types, written out from their struct tags, so a response with a renamed, missing
 * or extra field fails here rather than in a cluster. `?` marks `omitempty` fields.
 */
type Shape = 'string' | 'integer' | 'boolean' | 'quantity' | 'rfc3339' | 'string-map' | { object: Record<string, Shape> } | { list: Shape };

const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?$/;
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** metav1.ListMeta: `json:"metadata,omitempty"`. */
const LIST_META: Shape = { object: { 'selfLink?': 'string', 'resourceVersion?': 'string', 'continue?': 'string', 'remainingItemCount?': 'integer' } };

/** k8s.io/metrics/pkg/apis/external_metrics/v1beta1/types.go */
const EXTERNAL_METRIC_VALUE: Shape = {
  object: {
    // metav1.TypeMeta inline, omitempty: absent on items
    'kind?': 'string',
    'apiVersion?': 'string',
    metricName: 'string', // MetricName string `json:"metricName"`
    metricLabels: 'string-map', // MetricLabels map[string]string `json:"metricLabels"`
    timestamp: 'rfc3339', // Timestamp metav1.Time `json:"timestamp"`
    'window?': 'integer', // WindowSeconds *int64 `json:"window,omitempty"`
    value: 'quantity', // Value resource.Quantity `json:"value"`
  },
};
const EXTERNAL_METRIC_VALUE_LIST: Shape = {
  object: { kind: 'string', apiVersion: 'string', 'metadata?': LIST_META, items: { list: EXTERNAL_METRIC_VALUE } },
};

/** k8s.io/apimachinery/pkg/apis/meta/v1/types.go */
const GROUP_VERSION_FOR_DISCOVERY: Shape = { object: { groupVersion: 'string', version: 'string' } };
const API_GROUP: Shape = {
  object: {
    'kind?': 'string',
    'apiVersion?': 'string',
    name: 'string',
    versions: { list: GROUP_VERSION_FOR_DISCOVERY },
    'preferredVersion?': GROUP_VERSION_FOR_DISCOVERY,
    'serverAddressByClientCIDRs?': { list: { object: { clientCIDR: 'string', serverAddress: 'string' } } },
  },
};
const API_GROUP_LIST: Shape = { object: { kind: 'string', apiVersion: 'string', groups: { list: API_GROUP } } };
const API_RESOURCE: Shape = {
  object: {
    name: 'string',
    singularName: 'string',
    namespaced: 'boolean',
    'group?': 'string',
    'version?': 'string',
    kind: 'string',
    verbs: { list: 'string' },
    'shortNames?': { list: 'string' },
    'categories?': { list: 'string' },
    'storageVersionHash?': 'string',
  },
};
const API_RESOURCE_LIST: Shape = { object: { kind: 'string', apiVersion: 'string', groupVersion: 'string', resources: { list: API_RESOURCE } } };
const STATUS: Shape = {
  object: {
    kind: 'string',
    apiVersion: 'string',
    'metadata?': LIST_META,
    'status?': 'string',
    'message?': 'string',
    'reason?': 'string',
    'details?': { object: { 'name?': 'string', 'group?': 'string', 'kind?': 'string', 'uid?': 'string', 'causes?': { list: { object: {} } }, 'retryAfterSeconds?': 'integer' } },
    'code?': 'integer',
  },
};

function checkShape(value: unknown, shape: Shape, path = '$'): void {
  if (shape === 'string') return assert.equal(typeof value, 'string', path);
  if (shape === 'boolean') return assert.equal(typeof value, 'boolean', path);
  if (shape === 'integer') return assert.ok(Number.isSafeInteger(value), `${path}: integer, got ${JSON.stringify(value)}`);
  if (shape === 'quantity') return assert.ok(typeof value === 'string' && QUANTITY.test(value), `${path}: quantity, got ${JSON.stringify(value)}`);
  if (shape === 'rfc3339') return assert.ok(typeof value === 'string' && RFC3339.test(value), `${path}: RFC 3339, got ${JSON.stringify(value)}`);
  if (shape === 'string-map') {
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), path);
    for (const [k, v] of Object.entries(value)) assert.equal(typeof v, 'string', `${path}.${k}`);
    return;
  }
  if ('list' in shape) {
    assert.ok(Array.isArray(value), `${path}: list`);
    value.forEach((item, i) => checkShape(item, shape.list, `${path}[${i}]`));
    return;
  }
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${path}: object`);
  const fields = new Map(Object.entries(shape.object).map(([key, s]) => [key.replace(/\?$/, ''), { shape: s, optional: key.endsWith('?') }]));
  for (const key of Object.keys(value)) assert.ok(fields.has(key), `${path}: unexpected field "${key}"`);
  for (const [key, field] of fields) {
    const present = Object.hasOwn(value, key);
    if (!present) assert.ok(field.optional, `${path}: missing "${key}"`);
    else checkShape((value as Record<string, unknown>)[key], field.shape, `${path}.${key}`);
  }
}

const NOW = Date.UTC(2026, 10, 27, 10, 0, 0, 456);
const policies = [
  policyOf('checkout', 'shop', {
    targetRef: { kind: 'Service', name: 'checkout' },
    metrics: [
      { name: 'requests_per_second', target: { averageValue: 10 } },
      { name: 'concurrency', target: { value: 4 } },
      { name: 'latency_p99_ms', window: 'panic', target: { value: 100 } },
    ],
  }),
  policyOf('ghost', 'shop', { targetRef: { kind: 'Service', name: 'ghost' }, metrics: [{ name: 'error_rate', target: { value: 0.01 } }] }),
];
const routes = createAutoscalingRoutes({ collector: fixedSource(), policies: () => policies, now: () => NOW });
let base = '';
let close: () => Promise<void> = () => Promise.resolve();
before(async () => {
  const served = await serveRoutes(routes);
  base = served.url;
  close = served.close;
});
after(() => close());

async function get(path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET'): Promise<{ status: number; body: any; type: string | undefined; text: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await request(`${base}${path}`, { method });
  const text = await response.body.text();
  const type = response.headers['content-type'];
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined, type: typeof type === 'string' ? type : undefined, text };
}

const GV = 'external.metrics.k8s.io/v1beta1';
const METRICS = '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop';

describe('discovery documents the aggregation layer probes', () => {
  it('GET /apis is an APIGroupList with the one group', async () => {
    const { status, body, type } = await get('/apis');
    assert.equal(status, 200);
    assert.equal(type, 'application/json');
    checkShape(body, API_GROUP_LIST);
    assert.deepEqual(body, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [{ name: 'external.metrics.k8s.io', versions: [{ groupVersion: GV, version: 'v1beta1' }], preferredVersion: { groupVersion: GV, version: 'v1beta1' } }],
    });
  });

  it('GET /apis/external.metrics.k8s.io is an APIGroup', async () => {
    const { status, body } = await get('/apis/external.metrics.k8s.io/');
    assert.equal(status, 200);
    checkShape(body, API_GROUP);
    assert.equal(body.kind, 'APIGroup');
    assert.equal(body.preferredVersion.groupVersion, GV);
  });

  it('GET /apis/external.metrics.k8s.io/v1beta1 lists one namespaced ExternalMetricValueList resource per metric, verb get', async () => {
    const { status, body } = await get('/apis/external.metrics.k8s.io/v1beta1');
    assert.equal(status, 200);
    checkShape(body, API_RESOURCE_LIST);
    assert.equal(body.groupVersion, GV);
    assert.deepEqual(
      body.resources.map((r: { name: string }) => r.name),
      ['outrigger_requests_per_second', 'outrigger_concurrency', 'outrigger_latency_p50_ms', 'outrigger_latency_p90_ms', 'outrigger_latency_p99_ms', 'outrigger_error_ratio'],
    );
    for (const resource of body.resources) {
      assert.deepEqual({ ...resource, name: undefined }, { name: undefined, singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] });
    }
  });
});

describe('external metric values', () => {
  it('serves the stable window of the selected Service as an ExternalMetricValueList', async () => {
    const expected: Array<[string, string]> = [
      ['outrigger_requests_per_second', '40'],
      ['outrigger_concurrency', '4750m'],
      ['outrigger_error_ratio', '5m'],
    ];
    for (const [metric, value] of expected) {
      const { status, body } = await get(`${METRICS}/${metric}?labelSelector=service%3Dcheckout`);
      assert.equal(status, 200, metric);
      checkShape(body, EXTERNAL_METRIC_VALUE_LIST);
      assert.deepEqual(body, {
        kind: 'ExternalMetricValueList',
        apiVersion: GV,
        metadata: {},
        items: [{ metricName: metric, metricLabels: { service: 'checkout' }, timestamp: '2026-11-27T10:00:00Z', window: 60, value }],
      });
    }
  });

  it('serves latency percentiles of the merged histograms, in milliseconds', async () => {
    const { body } = await get(`${METRICS}/outrigger_latency_p99_ms?labelSelector=service%3Dcheckout`);
    checkShape(body, EXTERNAL_METRIC_VALUE_LIST);
    const value = body.items[0].value as string;
    const ms = Number(value.replace(/m$/, '')) / (value.endsWith('m') ? 1000 : 1);
    assert.ok(Math.abs(ms - 20) / 20 < 0.05, value);
  });

  it('picks the panic window with window=panic in the selector: window 6', async () => {
    const { status, body } = await get(`${METRICS}/outrigger_requests_per_second?labelSelector=${encodeURIComponent('service in (checkout),window=panic')}`);
    assert.equal(status, 200);
    checkShape(body, EXTERNAL_METRIC_VALUE_LIST);
    assert.deepEqual(body.items.map((i: { window: number; value: string }) => [i.window, i.value]), [[6, '25']]);
  });

  it('returns one item per matching Service of the namespace, as the HPA sums them', async () => {
    const both = await get(`${METRICS}/outrigger_requests_per_second?labelSelector=${encodeURIComponent('service in (checkout, catalog)')}`);
    assert.deepEqual(both.body.items.map((i: { metricLabels: { service: string }; value: string }) => [i.metricLabels.service, i.value]), [['catalog', '10'], ['checkout', '40']]);
    const all = await get(`${METRICS}/outrigger_requests_per_second`);
    assert.equal(all.body.items.length, 2, 'checkout.other is in another namespace');
    const other = await get('/apis/external.metrics.k8s.io/v1beta1/namespaces/other/outrigger_requests_per_second?labelSelector=service%3Dcheckout');
    assert.equal(other.body.items[0].value, '1');
  });

  it('answers 404 with a Kubernetes Status for an unknown metric or a Service nobody reports for', async () => {
    const unknownMetric = await get(`${METRICS}/outrigger_cpu?labelSelector=service%3Dcheckout`);
    assert.equal(unknownMetric.status, 404);
    checkShape(unknownMetric.body, STATUS);
    assert.deepEqual({ ...unknownMetric.body, message: undefined }, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: undefined,
      reason: 'NotFound',
      details: { name: 'outrigger_cpu', group: 'external.metrics.k8s.io', kind: 'outrigger_cpu' },
      code: 404,
    });
    const unknownService = await get(`${METRICS}/outrigger_requests_per_second?labelSelector=service%3Dghost`);
    assert.equal(unknownService.status, 404);
    checkShape(unknownService.body, STATUS);
    assert.match(unknownService.body.message, /no sidecar reports signals for service ghost in namespace shop/);
  });

  it('answers 400 for a malformed selector, window or namespace, and 405 for other methods', async () => {
    for (const path of [
      `${METRICS}/outrigger_concurrency?labelSelector=service%20in%20(checkout`,
      `${METRICS}/outrigger_concurrency?labelSelector=window%3Dburst`,
      '/apis/external.metrics.k8s.io/v1beta1/namespaces/Bad_NS/outrigger_concurrency',
      `${METRICS}/outrigger_%ZZ`,
    ]) {
      const { status, body } = await get(path);
      assert.equal(status, 400, path);
      checkShape(body, STATUS);
      assert.equal(body.reason, 'BadRequest');
    }
    const post = await get(`${METRICS}/outrigger_concurrency`, 'POST');
    assert.equal(post.status, 405);
    checkShape(post.body, STATUS);
    const nowhere = await get('/apis/external.metrics.k8s.io/v1beta1/namespaces/shop');
    assert.equal(nowhere.status, 404);
    checkShape(nowhere.body, STATUS);
  });

  it('answers HEAD without a body', async () => {
    const { status, text } = await get('/apis', 'HEAD');
    assert.equal(status, 200);
    assert.equal(text, '');
  });
});

describe('KEDA metrics-api JSON', () => {
  it('serves flat numbers for the stable window, and the panic one on request', async () => {
    const stable = await get('/autoscaling/keda/shop/checkout');
    assert.equal(stable.status, 200);
    assert.deepEqual(Object.keys(stable.body).sort(), ['concurrency', 'error_rate', 'latency_p50_ms', 'latency_p90_ms', 'latency_p99_ms', 'replicas', 'rps', 'window', 'window_seconds']);
    assert.deepEqual([stable.body.rps, stable.body.concurrency, stable.body.error_rate, stable.body.replicas, stable.body.window, stable.body.window_seconds], [40, 4.75, 0.005, 2, 'stable', 60]);
    assert.ok(Math.abs(stable.body.latency_p99_ms - 20) / 20 < 0.05);
    const panic = await get('/autoscaling/keda/shop/checkout?window=panic');
    assert.deepEqual([panic.body.rps, panic.body.window, panic.body.window_seconds, panic.body.error_rate], [25, 'panic', 6, 0.02]);
  });

  it('answers 404 for a Service nobody reports for and 400 for an unknown window', async () => {
    assert.equal((await get('/autoscaling/keda/shop/ghost')).status, 404);
    assert.equal((await get('/autoscaling/keda/shop/checkout?window=burst')).status, 400);
    assert.equal((await get('/autoscaling/keda/shop')).status, 404);
  });
});

describe('recommendations', () => {
  it('proposes, per AutoscalingSignal, what the HPA formula would choose: the largest proposal wins', async () => {
    const { status, body } = await get('/autoscaling/recommendations');
    assert.equal(status, 200);
    const [checkout, ghost] = body.items;
    assert.equal(checkout.service, 'checkout.shop');
    assert.equal(checkout.currentReplicas, 2);
    assert.equal(checkout.tolerance, 0.1);
    assert.deepEqual(
      checkout.metrics.map((m: { name: string; window: string; proposedReplicas: number; target: unknown }) => [m.name, m.window, m.proposedReplicas, m.target]),
      [
        ['requests_per_second', 'stable', 4, { type: 'AverageValue', averageValue: 10 }], // 40 rps / 10 per replica
        ['concurrency', 'stable', 3, { type: 'Value', value: 4 }], // ceil(2 × 4.75 / 4)
        ['latency_p99_ms', 'panic', 1, { type: 'Value', value: 100 }], // p99 ≈ 31 ms over 100: ceil(2 × 0.31)
      ],
    );
    assert.equal(checkout.recommendedReplicas, 4);
    assert.equal(checkout.reason, 'requests_per_second (stable)');
    assert.equal(checkout.metrics[0].value, 40);
    assert.equal(checkout.metrics[0].externalMetric, 'outrigger_requests_per_second');
    assert.deepEqual([ghost.service, ghost.recommendedReplicas, ghost.currentReplicas], ['ghost.shop', null, 0]);
    assert.match(ghost.reason, /no sidecar reports/);
  });

  it('lists every reporting Service with both windows', async () => {
    const { body } = await get('/autoscaling/services');
    assert.deepEqual(body.items.map((i: { service: string }) => i.service), ['catalog.shop', 'checkout.other', 'checkout.shop']);
    const checkout = body.items[2];
    assert.equal(checkout.windows.stable.requestsPerSecond, 40);
    assert.equal(checkout.windows.panic.windowSeconds, 6);
    assert.equal(checkout.windows.stable.latency, undefined, 'no histogram in the listing');
  });
});

describe('createAutoscalingRoutes', () => {
  it('leaves other paths to the caller', async () => {
    for (const path of ['/members', '/metrics', '/', '/apisx', '/autoscaling']) assert.equal((await get(path)).status, 418, path);
    assert.equal((await get('/autoscaling/nothing')).status, 404);
  });
});
