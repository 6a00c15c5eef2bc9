import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignalSource } from '../../mesh/signals-collector.ts';
import { WINDOW_NAMES, type WindowName } from '../../mesh/signals-report.ts';
import type { AutoscalingSignal } from '../../policy/schema/autoscaling-signal.ts';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  EXTERNAL_METRICS_GROUP,
  EXTERNAL_METRICS_VERSION,
  externalMetricValue,
  externalMetricValueList,
  kubernetesStatus,
} from './external-metrics.ts';
import { kedaMetrics } from './keda.ts';
import { matchesSelector, parseLabelSelector, SelectorError, type Requirement } from './label-selector.ts';
import { recommend } from './recommendations.ts';
import { externalMetric } from './signal-metrics.ts';

export interface AutoscalingRoutesOptions {
  collector: SignalSource;
  /** The AutoscalingSignals of the snapshot in force. */
  policies: () => readonly AutoscalingSignal[];
  /** Wall clock, ms since the epoch, for timestamps (Date.now). */
  now?: () => number;
}

/** Serves the request and returns true when the path is one of these routes; false leaves it to the caller. */
export type AutoscalingRoutes = (req: IncomingMessage, res: ServerResponse) => boolean;

const GROUP_PATH = `/apis/${EXTERNAL_METRICS_GROUP}`;
const VERSION_PATH = `${GROUP_PATH}/${EXTERNAL_METRICS_VERSION}`;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * HTTP routes for the control plane's API server:
 *
 *   GET /apis, /apis/external.metrics.k8s.io, /apis/external.metrics.k8s.io/v1beta1   discovery, for the aggregator
 *   GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}?labelSelector=service%3Dcheckout
 *       ExternalMetricValueList; `window=panic` in the selector picks the 6 s window (default: stable, 60 s)
 *   GET /autoscaling/keda/{ns}/{service}[?window=panic]   flat JSON for KEDA's metrics-api scaler
 *   GET /autoscaling/recommendations                        what the HPA formula would choose, per AutoscalingSignal
 *   GET /autoscaling/services                               every reporting Service, both windows
 *
 * Unknown metrics and Services get 404 with a Kubernetes Status under /apis (JSON `{error}` elsewhere), never 0: a
 * Service nobody reports for has no value, and an HPA reading 0 would scale it down.
 */
export function createAutoscalingRoutes(options: AutoscalingRoutesOptions): AutoscalingRoutes {
  const now = options.now ?? Date.now;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const kube = path === '/apis' || path.startsWith('/apis/');
    if (!kube && !path.startsWith('/autoscaling/')) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, 405, kube ? kubernetesStatus(405, `${req.method ?? ''} is not supported; only get`) : { error: 'only GET' }, head, { allow: 'GET, HEAD' });
      return true;
    }
    let segments: string[];
    try {
      segments = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      send(res, 400, kube ? kubernetesStatus(400, 'malformed percent-encoding in the path') : { error: 'malformed path' }, head);
      return true;
    }
    const [status, body] = kube ? kubernetesRoute(path, segments, url, options, now) : autoscalingRoute(segments, url, options);
    send(res, status, body, head);
    return true;
  };
}

function kubernetesRoute(path: string, segments: string[], url: URL, options: AutoscalingRoutesOptions, now: () => number): [number, unknown] {
  if (path === '/apis') return [200, apiGroupList()];
  if (path === GROUP_PATH) return [200, apiGroup()];
  if (path === VERSION_PATH) return [200, apiResourceList()];
  // ['apis', group, version, 'namespaces', ns, metric]
  if (segments.length === 6 && path.startsWith(`${VERSION_PATH}/namespaces/`)) {
    return externalMetricList(segments[4] ?? '', segments[5] ?? '', url.searchParams.get('labelSelector') ?? '', options, now);
  }
  return [404, kubernetesStatus(404, `the server could not find the requested resource ${path}`)];
}

function externalMetricList(namespace: string, name: string, selector: string, options: AutoscalingRoutesOptions, now: () => number): [number, unknown] {
  const metric = externalMetric(name);
  if (!metric) return [404, kubernetesStatus(404, `external metric "${name}" is not served here`, { name, group: EXTERNAL_METRICS_GROUP, kind: name })];
  if (!NAMESPACE.test(namespace)) return [400, kubernetesStatus(400, `invalid namespace "${namespace}"`)];
  let requirements: Requirement[];
  let window: WindowName;
  try {
    requirements = parseLabelSelector(selector);
    window = selectedWindow(requirements);
  } catch (error) {
    if (!(error instanceof SelectorError)) throw error;
    return [400, kubernetesStatus(400, `labelSelector: ${error.message}`)];
  }
  const rest = requirements.filter((r) => r.key !== 'window');
  const services = options.collector
    .services()
    .filter((key) => key.slice(key.indexOf('.') + 1) === namespace)
    .map((key) => key.slice(0, key.indexOf('.')))
    .filter((service) => matchesSelector(rest, { service }));
  const named = rest.filter((r) => r.key === 'service' && (r.operator === '=' || r.operator === 'in')).flatMap((r) => r.values);
  if (services.length === 0 && named.length > 0) {
    const which = named.length === 1 ? `service ${named[0]}` : `services ${named.join(', ')}`;
    return [404, kubernetesStatus(404, `no sidecar reports signals for ${which} in namespace ${namespace}`, { name: metric.external, group: EXTERNAL_METRICS_GROUP, kind: metric.external })];
  }
  const at = now();
  const items = services.flatMap((service) => {
    const signals = options.collector.aggregate(`${service}.${namespace}`, window);
    return signals ? [externalMetricValue(metric, service, signals, at)] : [];
  });
  return [200, externalMetricValueList(items)];
}

/** `window=panic` / `window in (panic)` in the selector picks the panic window; none picks stable. */
function selectedWindow(requirements: readonly Requirement[]): WindowName {
  const constraints = requirements.filter((r) => r.key === 'window');
  if (constraints.length === 0) return 'stable';
  const [only] = constraints;
  const value = only?.values[0];
  if (constraints.length > 1 || (only?.operator !== '=' && only?.operator !== 'in') || only.values.length !== 1 || !isWindow(value)) {
    throw new SelectorError('window must be selected as window=stable or window=panic');
  }
  return value;
}

function autoscalingRoute(segments: string[], url: URL, options: AutoscalingRoutesOptions): [number, unknown] {
  const [, what, namespace, service] = segments;
  if (segments.length === 2 && what === 'recommendations') return [200, { items: options.policies().map((policy) => recommend(policy, options.collector)) }];
  if (segments.length === 2 && what === 'services') {
    const items = options.collector.services().map((key) => ({
      service: key,
      windows: Object.fromEntries(WINDOW_NAMES.map((window) => [window, withoutHistogram(options.collector.aggregate(key, window))])),
    }));
    return [200, { items }];
  }
  if (segments.length === 4 && what === 'keda' && namespace !== undefined && service !== undefined) {
    const window = url.searchParams.get('window') ?? 'stable';
    if (!isWindow(window)) return [400, { error: 'window must be stable or panic' }];
    const signals = options.collector.aggregate(`${service}.${namespace}`, window);
    if (!signals) return [404, { error: `no sidecar reports signals for service ${service} in namespace ${namespace}` }];
    return [200, kedaMetrics(signals)];
  }
  return [404, { error: 'no such path', paths: ['/autoscaling/keda/{namespace}/{service}', '/autoscaling/recommendations', '/autoscaling/services'] }];
}

function withoutHistogram<T extends { latency: unknown }>(signals: T | undefined): Omit<T, 'latency'> | undefined {
  if (!signals) return undefined;
  const { latency: _latency, ...rest } = signals;
  return rest;
}

function isWindow(value: unknown): value is WindowName {
  return value === 'stable' || value === 'panic';
}

function send(res: ServerResponse, status: number, body: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(head ? undefined : text);
}
