/**
 * How the app's traffic reaches the proxy. `iptables`: an init container redirects every inbound TCP connection to
 * 15006 and every outbound one to 15001 (Istio's scheme), the proxy's own user excepted. `explicit`: nothing is
 * redirected; apps get `HTTP_PROXY=http://127.0.0.1:15001` and peers reach the inbound port directly.
 */
import { ANNOTATION, formatPortRange, parseCidrList, parsePortList, type PortRange } from './annotations.ts';
import { PROXY, type CaptureMode, type InjectorConfig } from './config.ts';
import type { Container, EnvVar, Pod } from './k8s-types.ts';
import type { PatchBuilder } from './json-patch.ts';
import type { Checked } from './decision.ts';

export interface CaptureSettings {
  mode: CaptureMode;
  source: string;
  excludeInboundPorts: PortRange[];
  excludeOutboundPorts: PortRange[];
  excludeOutboundCidrs: string[];
}

/** The pod's capture mode and exclusions from its annotations over the config's defaults; a bad value is a reason, not a guess. */
export function captureSettings(pod: Pod, config: InjectorConfig): Checked<CaptureSettings> {
  const annotations = pod.metadata?.annotations ?? {};
  const annotated = annotations[ANNOTATION.capture];
  if (annotated !== undefined && annotated !== 'iptables' && annotated !== 'explicit') {
    return { ok: false, code: 'invalid-annotation', reason: `annotation ${ANNOTATION.capture}="${annotated}" must be "iptables" or "explicit"` };
  }
  const mode = annotated ?? config.captureMode;
  const source = annotated !== undefined ? `annotation ${ANNOTATION.capture}` : 'injector default';
  try {
    const list = <T>(key: string, parse: (text: string) => T[]): T[] => {
      try {
        return parse(annotations[key] ?? '');
      } catch (error) {
        throw new Error(`annotation ${key}: ${(error as Error).message}`, { cause: error });
      }
    };
    const settings: CaptureSettings = {
      mode,
      source,
      excludeInboundPorts: list(ANNOTATION.excludeInboundPorts, parsePortList),
      excludeOutboundPorts: [...parsePortList(config.excludeOutboundPorts.join(',')), ...list(ANNOTATION.excludeOutboundPorts, parsePortList)],
      excludeOutboundCidrs: list(ANNOTATION.excludeOutboundCidrs, parseCidrList),
    };
    const notes: string[] = [];
    if (mode === 'explicit') {
      const ignored = [ANNOTATION.excludeInboundPorts, ANNOTATION.excludeOutboundPorts, ANNOTATION.excludeOutboundCidrs].filter((key) => annotations[key] !== undefined);
      if (ignored.length > 0) notes.push(`${ignored.join(', ')} ignored: nothing is captured in explicit mode`);
    }
    return { ok: true, value: settings, source, notes };
  } catch (error) {
    return { ok: false, code: 'invalid-annotation', reason: (error as Error).message };
  }
}

const PROXY_PORTS: readonly PortRange[] = [PROXY.adminPort, PROXY.healthPort, PROXY.outboundPort, PROXY.inboundPort, PROXY.gossipPort].map((port) => ({ from: port, to: port }));

function dedupe(ranges: readonly PortRange[]): PortRange[] {
  const seen = new Set<string>();
  return ranges.filter((range) => {
    const key = formatPortRange(range);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The shell script the init container runs: one atomic `iptables-restore` of the nat table, then the resulting rules
 * printed to its log (`kubectl logs POD -c outrigger-init`). Every value in it was parsed as a number or an IPv4
 * CIDR, and the rules sit in a quoted here-document, so nothing in it is expanded by the shell.
 */
export function iptablesScript(settings: Pick<CaptureSettings, 'excludeInboundPorts' | 'excludeOutboundPorts' | 'excludeOutboundCidrs'>): string {
  const inboundExcluded = dedupe([...PROXY_PORTS, ...settings.excludeInboundPorts]);
  const outboundExcluded = dedupe([...PROXY_PORTS, ...settings.excludeOutboundPorts]);
  const cidrs = [...new Set(settings.excludeOutboundCidrs)];
  const rules = [
    '*nat',
    ':OUTRIGGER_INBOUND - [0:0]',
    ':OUTRIGGER_IN_REDIRECT - [0:0]',
    ':OUTRIGGER_OUTPUT - [0:0]',
    ':OUTRIGGER_REDIRECT - [0:0]',
    `-A OUTRIGGER_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${PROXY.inboundPort}`,
    `-A OUTRIGGER_REDIRECT -p tcp -j REDIRECT --to-ports ${PROXY.outboundPort}`,
    '# inbound: every TCP connection to the pod goes to the proxy\'s inbound listener, except to these ports',
    '-A PREROUTING -p tcp -j OUTRIGGER_INBOUND',
    ...inboundExcluded.map((range) => `-A OUTRIGGER_INBOUND -p tcp --dport ${formatPortRange(range)} -j RETURN`),
    '-A OUTRIGGER_INBOUND -p tcp -j OUTRIGGER_IN_REDIRECT',
    '# outbound: every TCP connection the app opens goes to the proxy\'s outbound listener, except the proxy\'s own,',
    '# loopback, and these ports and destinations',
    '-A OUTPUT -p tcp -j OUTRIGGER_OUTPUT',
    `-A OUTRIGGER_OUTPUT -m owner --uid-owner ${PROXY.uid} -j RETURN`,
    '-A OUTRIGGER_OUTPUT -o lo -j RETURN',
    '-A OUTRIGGER_OUTPUT -d 127.0.0.1/32 -j RETURN',
    ...outboundExcluded.map((range) => `-A OUTRIGGER_OUTPUT -p tcp --dport ${formatPortRange(range)} -j RETURN`),
    ...cidrs.map((cidr) => `-A OUTRIGGER_OUTPUT -d ${cidr} -j RETURN`),
    '-A OUTRIGGER_OUTPUT -j OUTRIGGER_REDIRECT',
    'COMMIT',
  ];
  return ['set -eu', 'iptables-restore --noflush <<\'OUTRIGGER_RULES\'', ...rules, 'OUTRIGGER_RULES', 'iptables-save -t nat', ''].join('\n');
}

/** The `outrigger-init` container: root with NET_ADMIN and NET_RAW, for the few milliseconds iptables-restore takes. */
export function captureInitContainer(config: InjectorConfig, settings: CaptureSettings): Container {
  return {
    name: PROXY.initContainerName,
    image: config.image,
    ...(config.imagePullPolicy ? { imagePullPolicy: config.imagePullPolicy } : {}),
    command: ['/bin/sh', '-c'],
    args: [iptablesScript(settings)],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      privileged: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

export const EXPLICIT_PROXY_ENV = { HTTP_PROXY: `http://127.0.0.1:${PROXY.outboundPort}`, NO_PROXY: '127.0.0.1,localhost' } as const;

/**
 * Explicit mode: `HTTP_PROXY` and `NO_PROXY` on every app container (`spec.containers`, the proxy excepted). A value
 * the app already sets is never overwritten: `NO_PROXY` gets ours appended; `HTTP_PROXY` is left as it is. Returns a
 * note for each such case.
 */
export function addExplicitProxyEnv(builder: PatchBuilder<Pod>): string[] {
  const notes: string[] = [];
  builder.doc.spec.containers.forEach((container, index) => {
    if (container.name === PROXY.containerName) return;
    const envPath = ['spec', 'containers', index, 'env'];
    for (const [name, value] of Object.entries(EXPLICIT_PROXY_ENV)) {
      const env = (builder.get(envPath) ?? []) as EnvVar[];
      const at = env.findIndex((entry) => entry.name === name);
      const existing = env[at];
      if (existing === undefined) {
        builder.insert(envPath, '-', { name, value });
      } else if (existing.valueFrom !== undefined) {
        notes.push(`container ${container.name}: ${name} comes from valueFrom, left as is (outrigger wants ${value})`);
      } else if (name === 'NO_PROXY') {
        const current = existing.value ?? '';
        const have = new Set(current.split(',').map((item) => item.trim()));
        const missing = value.split(',').filter((item) => !have.has(item));
        if (missing.length === 0) continue;
        builder.set([...envPath, at, 'value'], current === '' ? missing.join(',') : `${current},${missing.join(',')}`);
        notes.push(`container ${container.name}: appended ${missing.join(',')} to its NO_PROXY`);
      } else if (existing.value !== value) {
        notes.push(`container ${container.name}: ${name} is already "${existing.value ?? ''}", left as is, so its calls do not go through the proxy`);
      }
    }
  });
  return notes;
}
