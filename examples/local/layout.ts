/** Where everything in the demo listens, all on 127.0.0.1 and derived from `--base-port` so one flag moves it all. */

export type Role = 'frontend' | 'catalog' | 'pricing';

export interface Member {
  /** Process and gossip member name, also the replica name the catalog answers with. */
  name: string;
  /** The Service it belongs to. */
  service: Role;
  /** Extra arguments for its app (examples/local/apps/<service>.ts). */
  appArgs: string[];
  app: number;
  inbound: number;
  outbound: number;
  admin: number;
  gossip: number;
}

export interface Layout {
  controlPlane: { api: number; gossip: number };
  members: Member[];
  /** The frontend, which the traffic generator calls. */
  frontend: Member;
  /** The flaky catalog replica. */
  flaky: Member;
}

/** The share of the flaky replica's requests that fail with 503. */
export const FLAKY_FAIL_RATE = 0.3;
/** The demo uses ports base … base + PORT_SPAN - 1. */
export const PORT_SPAN = 60;

export function demoLayout(base: number): Layout {
  const specs: { name: string; service: Role; appArgs?: string[] }[] = [
    { name: 'frontend', service: 'frontend' },
    { name: 'catalog-1', service: 'catalog' },
    { name: 'catalog-2', service: 'catalog' },
    { name: 'catalog-3', service: 'catalog', appArgs: ['--fail-rate', String(FLAKY_FAIL_RATE)] },
    { name: 'pricing', service: 'pricing' },
  ];
  const members = specs.map((s, i): Member => ({
    name: s.name,
    service: s.service,
    appArgs: s.appArgs ?? [],
    app: base + 10 + i,
    inbound: base + 20 + i,
    outbound: base + 30 + i,
    admin: base + 40 + i,
    gossip: base + 50 + i,
  }));
  const frontend = members.find((m) => m.service === 'frontend');
  const flaky = members.find((m) => m.name === 'catalog-3');
  if (!frontend || !flaky) throw new Error('the layout needs a frontend and a flaky replica');
  return { controlPlane: { api: base, gossip: base + 1 }, members, frontend, flaky };
}

/** Every port with what uses it and whether UDP is needed too (gossip). */
export function allPorts(layout: Layout): { port: number; what: string; udp: boolean }[] {
  const ports = [
    { port: layout.controlPlane.api, what: 'control-plane API', udp: false },
    { port: layout.controlPlane.gossip, what: 'control-plane gossip', udp: true },
  ];
  for (const m of layout.members) {
    ports.push(
      { port: m.app, what: `${m.name} app`, udp: false },
      { port: m.inbound, what: `${m.name} sidecar inbound`, udp: false },
      { port: m.outbound, what: `${m.name} sidecar outbound`, udp: false },
      { port: m.admin, what: `${m.name} sidecar admin`, udp: false },
      { port: m.gossip, what: `${m.name} sidecar gossip`, udp: true },
    );
  }
  return ports;
}
