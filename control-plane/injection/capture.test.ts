import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidrList, parsePortList, parseQuantity } from './annotations.ts';
import { captureInitContainer, captureSettings, iptablesScript } from './capture.ts';
import { resolveInjectorConfig } from './config.ts';
import type { Pod } from './k8s-types.ts';

const config = resolveInjectorConfig();
const pod = (annotations: Record<string, string>): Pod => ({ metadata: { annotations }, spec: { containers: [{ name: 'a' }] } });

function rules(script: string): string[] {
  const body = script.slice(script.indexOf('*nat'), script.indexOf('COMMIT') + 'COMMIT'.length);
  return body.split('\n').filter((line) => !line.startsWith('#'));
}

describe('iptables capture', () => {
  it('redirects inbound TCP to 15006 and outbound TCP to 15001, excluding the proxy\'s user, loopback and own ports', () => {
    const script = iptablesScript({ excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [] });
    assert.ok(script.startsWith('set -eu\niptables-restore --noflush <<\'OUTRIGGER_RULES\'\n*nat\n'));
    assert.ok(script.endsWith('COMMIT\nOUTRIGGER_RULES\niptables-save -t nat\n'));
    assert.deepEqual(rules(script), [
      '*nat',
      ':OUTRIGGER_INBOUND - [0:0]',
      ':OUTRIGGER_IN_REDIRECT - [0:0]',
      ':OUTRIGGER_OUTPUT - [0:0]',
      ':OUTRIGGER_REDIRECT - [0:0]',
      '-A OUTRIGGER_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
      '-A OUTRIGGER_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      '-A PREROUTING -p tcp -j OUTRIGGER_INBOUND',
      '-A OUTRIGGER_INBOUND -p tcp --dport 15000 -j RETURN',
      '-A OUTRIGGER_INBOUND -p tcp --dport 15021 -j RETURN',
      '-A OUTRIGGER_INBOUND -p tcp --dport 15001 -j RETURN',
      '-A OUTRIGGER_INBOUND -p tcp --dport 15006 -j RETURN',
      '-A OUTRIGGER_INBOUND -p tcp --dport 7946 -j RETURN',
      '-A OUTRIGGER_INBOUND -p tcp -j OUTRIGGER_IN_REDIRECT',
      '-A OUTPUT -p tcp -j OUTRIGGER_OUTPUT',
      '-A OUTRIGGER_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-A OUTRIGGER_OUTPUT -o lo -j RETURN',
      '-A OUTRIGGER_OUTPUT -d 127.0.0.1/32 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 15000 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 15021 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 15001 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 15006 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 7946 -j RETURN',
      '-A OUTRIGGER_OUTPUT -j OUTRIGGER_REDIRECT',
      'COMMIT',
    ]);
  });

  it('adds the pod\'s exclusions before the catch-all redirects, deduplicated, ranges in iptables form', () => {
    const settings = captureSettings(pod({
      'outrigger.dev/exclude-inbound-ports': '9090-9099, 8081',
      'outrigger.dev/exclude-outbound-ports': '5432,6379, 5432, 15001',
      'outrigger.dev/exclude-outbound-cidrs': '169.254.169.254, 10.96.0.0/12',
    }), config);
    assert.ok(settings.ok);
    const lines = rules(iptablesScript(settings.value));
    const inbound = lines.filter((l) => l.startsWith('-A OUTRIGGER_INBOUND'));
    assert.deepEqual(inbound.slice(5), ['-A OUTRIGGER_INBOUND -p tcp --dport 9090:9099 -j RETURN', '-A OUTRIGGER_INBOUND -p tcp --dport 8081 -j RETURN', '-A OUTRIGGER_INBOUND -p tcp -j OUTRIGGER_IN_REDIRECT']);
    const outbound = lines.filter((l) => l.startsWith('-A OUTRIGGER_OUTPUT'));
    assert.deepEqual(outbound.slice(8), [
      '-A OUTRIGGER_OUTPUT -p tcp --dport 53 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 5432 -j RETURN',
      '-A OUTRIGGER_OUTPUT -p tcp --dport 6379 -j RETURN',
      '-A OUTRIGGER_OUTPUT -d 169.254.169.254/32 -j RETURN',
      '-A OUTRIGGER_OUTPUT -d 10.96.0.0/12 -j RETURN',
      '-A OUTRIGGER_OUTPUT -j OUTRIGGER_REDIRECT',
    ]);
  });

  it('the default DNS exclusion comes from the config and can be dropped', () => {
    const noDns = captureSettings(pod({}), resolveInjectorConfig({ excludeOutboundPorts: [] }));
    assert.ok(noDns.ok);
    assert.ok(!iptablesScript(noDns.value).includes('--dport 53 '));
  });

  it('refuses anything but numbers and IPv4 CIDRs, so nothing reaches the root shell', () => {
    for (const [key, value] of [
      ['outrigger.dev/exclude-outbound-ports', '80; reboot'],
      ['outrigger.dev/exclude-outbound-ports', '$(id)'],
      ['outrigger.dev/exclude-inbound-ports', '0'],
      ['outrigger.dev/exclude-inbound-ports', '70000'],
      ['outrigger.dev/exclude-inbound-ports', '100-10'],
      ['outrigger.dev/exclude-outbound-cidrs', '10.0.0.0/8\nOUTRIGGER_RULES'],
      ['outrigger.dev/exclude-outbound-cidrs', 'fd00::/8'],
      ['outrigger.dev/exclude-outbound-cidrs', '10.0.0/8'],
    ]) {
      const result = captureSettings(pod({ [key as string]: value as string }), config);
      assert.equal(result.ok, false, `${key}: ${value}`);
      if (!result.ok) assert.match(result.reason, new RegExp(`^annotation ${key}: `));
    }
  });

  it('the init container runs the script as root with NET_ADMIN and NET_RAW only', () => {
    const settings = captureSettings(pod({}), config);
    assert.ok(settings.ok);
    const init = captureInitContainer(config, settings.value);
    assert.equal(init.name, 'outrigger-init');
    assert.equal(init.image, config.image);
    assert.deepEqual(init.command, ['/bin/sh', '-c']);
    assert.equal(init.args?.length, 1);
    assert.equal(init.args?.[0], iptablesScript(settings.value));
    assert.deepEqual(init.securityContext, {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      privileged: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    });
  });

  it('capture mode: annotation over the config default', () => {
    const explicit = captureSettings(pod({ 'outrigger.dev/capture': 'explicit' }), config);
    assert.ok(explicit.ok && explicit.value.mode === 'explicit' && explicit.source === 'annotation outrigger.dev/capture');
    const byConfig = captureSettings(pod({}), resolveInjectorConfig({ captureMode: 'explicit' }));
    assert.ok(byConfig.ok && byConfig.value.mode === 'explicit' && byConfig.source === 'injector default');
  });
});

describe('annotation value parsers', () => {
  it('ports and ranges', () => {
    assert.deepEqual(parsePortList(' 80, 8000-8100 ,'), [{ from: 80, to: 80 }, { from: 8000, to: 8100 }]);
    assert.deepEqual(parsePortList(''), []);
    assert.throws(() => parsePortList('1-2-3'), /"1-2-3" is not a port/);
  });

  it('CIDRs', () => {
    assert.deepEqual(parseCidrList('1.2.3.4, 10.0.0.0/8'), ['1.2.3.4/32', '10.0.0.0/8']);
    assert.throws(() => parseCidrList('1.2.3.4/x'), /not an IPv4 address or CIDR/);
  });

  it('quantities', () => {
    assert.equal(parseQuantity('50m'), 0.05);
    assert.equal(parseQuantity('64Mi'), 64 * 2 ** 20);
    assert.equal(parseQuantity('1G'), 1e9);
    assert.equal(parseQuantity('1.5'), 1.5);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('12 Mi'), undefined);
    assert.equal(parseQuantity('-1'), undefined);
    assert.equal(parseQuantity('Mi'), undefined);
  });
});
