/**
 * Endpoints of Services learnt at run time (gossip membership, Kubernetes, tests), as opposed to the static
 * `ServiceEndpoints` YAML. The sidecar merges them into its Services and rebuilds when `subscribe` says they changed.
 */

/** One endpoint of a discovered Service. Members that are dead or gone are simply absent. */
export interface DiscoveredEndpoint {
  /** HOST:PORT, as in ServiceEndpoints. */
  address: string;
  zone?: string | undefined;
  /** Positive, at most 128 (the ServiceEndpoints limit). */
  weight: number;
  /** memberlist's states: `suspect` failed a probe and is probably alive, so it keeps a small share of traffic. */
  state: 'healthy' | 'suspect';
}

export interface DiscoverySource {
  /**
   * Every discovered Service by key `name.namespace`. A key with an empty list is a Service known to have no
   * endpoint now (its callers get 503 UH); an absent key is a Service discovery does not know (404 NR unless YAML
   * names it). The returned map must not change afterwards: a change is a new map.
   */
  current(): ReadonlyMap<string, readonly DiscoveredEndpoint[]>;
  /** Calls `listener` after each change, synchronously and cheaply; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** RFC 1123 labels, as Service names and namespaces are: `name.namespace`. */
const SERVICE_KEY = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
/** The ServiceEndpoints schema's HOST:PORT shape (policy/schema/service-endpoints.ts). */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
const MAX_WEIGHT = 128;

export function isServiceKey(key: string): boolean {
  return SERVICE_KEY.test(key);
}

/** Why `endpoint` cannot be used, or undefined when it can. Discovery data is checked like YAML, never trusted. */
export function discoveredEndpointProblem(endpoint: DiscoveredEndpoint): string | undefined {
  const match = typeof endpoint.address === 'string' && endpoint.address.length <= 300 ? HOST_PORT.exec(endpoint.address) : null;
  const port = Number(match?.[2]);
  if (!match || !(port >= 1 && port <= 65535)) return `address ${JSON.stringify(endpoint.address)} must be HOST:PORT with a port 1–65535`;
  if (!(typeof endpoint.weight === 'number' && endpoint.weight > 0 && endpoint.weight <= MAX_WEIGHT)) return `weight ${endpoint.weight} must be in (0, ${MAX_WEIGHT}]`;
  if (endpoint.state !== 'healthy' && endpoint.state !== 'suspect') return `state ${JSON.stringify(endpoint.state)} must be healthy or suspect`;
  return undefined;
}

/**
 * A DiscoverySource whose content is pushed in: by tests, or by anything that learns endpoints elsewhere.
 * Invalid input throws at `set`, so the pusher hears about it rather than the sidecar dropping it quietly.
 */
export class StaticDiscoverySource implements DiscoverySource {
  private snapshot: ReadonlyMap<string, readonly DiscoveredEndpoint[]> = new Map();
  private readonly listeners = new Set<() => void>();

  constructor(initial: Iterable<readonly [string, readonly DiscoveredEndpoint[]]> = []) {
    const next = new Map<string, readonly DiscoveredEndpoint[]>();
    for (const [key, endpoints] of initial) next.set(key, checked(key, endpoints));
    this.snapshot = next;
  }

  current(): ReadonlyMap<string, readonly DiscoveredEndpoint[]> {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    const own = (): void => listener();
    this.listeners.add(own);
    return () => this.listeners.delete(own);
  }

  /** Replaces one Service's endpoints (an empty list keeps the Service known, without endpoints). */
  set(serviceKey: string, endpoints: readonly DiscoveredEndpoint[]): void {
    const next = new Map(this.snapshot);
    next.set(serviceKey, checked(serviceKey, endpoints));
    this.publish(next);
  }

  /** Forgets a Service altogether. */
  delete(serviceKey: string): void {
    if (!this.snapshot.has(serviceKey)) return;
    const next = new Map(this.snapshot);
    next.delete(serviceKey);
    this.publish(next);
  }

  /** Replaces everything at once, with one notification. */
  replaceAll(services: Iterable<readonly [string, readonly DiscoveredEndpoint[]]>): void {
    const next = new Map<string, readonly DiscoveredEndpoint[]>();
    for (const [key, endpoints] of services) next.set(key, checked(key, endpoints));
    this.publish(next);
  }

  private publish(next: ReadonlyMap<string, readonly DiscoveredEndpoint[]>): void {
    this.snapshot = next;
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // One failing listener must not keep the others from hearing about the change.
      }
    }
  }
}

function checked(key: string, endpoints: readonly DiscoveredEndpoint[]): readonly DiscoveredEndpoint[] {
  if (!isServiceKey(key)) throw new RangeError(`discovered Service key ${JSON.stringify(key)} must be name.namespace`);
  const copy = endpoints.map((endpoint) => {
    const problem = discoveredEndpointProblem(endpoint);
    if (problem) throw new RangeError(`discovered endpoint of ${key}: ${problem}`);
    return Object.freeze({ ...endpoint });
  });
  return Object.freeze(copy);
}
