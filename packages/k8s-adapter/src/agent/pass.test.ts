import { generateWireGuardKeyPair } from '@isthmus/cable';
import { createGlobalnet, planGlobalnetNat, renderNft } from '@isthmus/globalnet-ipam';
import {
  applyDiff,
  canonicalPlan,
  createTopologyState,
  diffPlan,
  emptyPlan,
  mergePlans,
  type Plan,
  planNodeRoutes,
} from '@isthmus/route-planner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeCableSpec, NodePlanSpec } from '../resources';
import { AgentError } from './errors';
import type { Observed } from './observe';
import { type PassInput, planPass, scopeObserved } from './pass';
import { gatewayNodePlans, p2pState } from './test-support';

function observed(plan: Plan, more: Partial<Observed> = {}): Observed {
  return { plan, links: new Map(), natTables: [], natFingerprints: {}, wireguard: null, ...more };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return AgentError.isInstance(e) ? e.code : `not an AgentError: ${String(e)}`;
  }
  return undefined;
}

const state = p2pState();
const east = planNodeRoutes(state, 'east-1').plan;
const spec = (routes: Plan, more: Partial<NodePlanSpec> = {}): NodePlanSpec => ({
  node: 'east-1',
  routes,
  ...more,
});

/** Another program's entries on the node: a rule to table 200, a route there, a route in main. */
const foreign: Plan = canonicalPlan({
  rules: [{ family: 4, priority: 300, table: 200 }],
  routes: [
    { family: 4, table: 200, dst: '192.0.2.0/24', dev: 'eth0', scope: 'link' },
    { family: 4, table: 254, dst: 'default', via: '192.0.2.1', dev: 'eth0' },
  ],
});

describe('planPass: routes', () => {
  it('an empty kernel gets the whole plan: the VXLAN device first, FDB last', () => {
    const pass = planPass({ spec: spec(east), observed: observed(emptyPlan()) });
    expect(pass.commands.map((c) => `${c.cmd} ${c.args.join(' ')}`)).toEqual([
      'ip -batch -',
      'bridge -batch -',
    ]);
    expect(String(pass.commands[0]!.input)).toMatch(/^link add vx-bridge /);
    expect(pass.reasons).toEqual(['routes differ']);
  });

  it('a kernel that holds the plan (and other software’s entries) gets no command', () => {
    const pass = planPass({ spec: spec(east), observed: observed(mergePlans(east, foreign)) });
    expect(pass.commands).toEqual([]);
    expect(pass.reasons).toEqual([]);
  });

  it('property: for any P2P mesh and any node, applying the pass to what the kernel held gives the plan, and the next pass is empty; other software’s entries stay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.nat(),
        (a, b, pick, drop) => {
          const nodes = [
            ...Array.from({ length: a }, (_, i) => ({
              name: `e-${i}`,
              cluster: 'e',
              underlayIP: `198.18.0.${i + 1}`,
              podCIDRs: [`10.10.${i}.0/24`],
            })),
            ...Array.from({ length: b }, (_, i) => ({
              name: `w-${i}`,
              cluster: 'w',
              underlayIP: `198.18.1.${i + 1}`,
              podCIDRs: [`10.20.${i}.0/24`],
            })),
          ];
          const st = createTopologyState({
            clusters: [
              { name: 'e', mode: 'p2p', podCIDRs: ['10.10.0.0/16'] },
              { name: 'w', mode: 'p2p', podCIDRs: ['10.20.0.0/16'] },
            ],
            nodes,
          });
          const node = nodes[pick % nodes.length]!.name;
          const desired = planNodeRoutes(st, node).plan;
          // The kernel holds a partial, stale version of the plan: some routes missing.
          const stale = canonicalPlan({
            ...desired,
            routes: desired.routes.filter((_, i) => i !== drop % Math.max(1, desired.routes.length)),
          });
          const kernel = mergePlans(stale, foreign);
          const pass = planPass({ spec: { node, routes: desired }, observed: observed(kernel) });
          const after = applyDiff(kernel, pass.routeDiff);
          expect(scopeObserved(after, desired)).toEqual(desired);
          expect(after.rules).toEqual(expect.arrayContaining([...foreign.rules]));
          expect(after.routes).toEqual(expect.arrayContaining([...foreign.routes]));
          expect(planPass({ spec: { node, routes: desired }, observed: observed(after) }).commands).toEqual(
            [],
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('entries the previous plan named and the new one drops are deleted (a removed VXLAN device); without that memory they are left', () => {
    const withMemory = planPass({
      spec: spec(emptyPlan()),
      observed: observed(mergePlans(east, foreign)),
      memory: { scopes: [east] },
    });
    expect(withMemory.routeDiff.delete.devices.map((d) => d.name)).toEqual(['vx-bridge']);
    expect(withMemory.routeDiff.delete.rules).toEqual(east.rules);
    expect(withMemory.routeDiff.delete.routes).toEqual(east.routes);
    expect(
      planPass({ spec: spec(emptyPlan()), observed: observed(mergePlans(east, foreign)) }).commands,
    ).toEqual([]);
  });

  it('a plan that is not a route plan, or one that needs a peer namespace, is INVALID_PLAN', () => {
    expect(
      code(() =>
        planPass({ spec: spec({ routes: 'nope' } as unknown as Plan), observed: observed(emptyPlan()) }),
      ),
    ).toBe('INVALID_PLAN');
    const veth = canonicalPlan({
      devices: [
        {
          kind: 'veth',
          name: 'vethx',
          mac: '0a:00:00:00:00:01',
          mtu: 1500,
          peer: 'eth0',
          peerMac: '0a:00:00:00:00:02',
        },
      ],
    });
    expect(code(() => planPass({ spec: spec(veth), observed: observed(emptyPlan()) }))).toBe('INVALID_PLAN');
  });

  it('is pure: the inputs are not changed', () => {
    const input: PassInput = { spec: spec(east), observed: observed(foreign), memory: { scopes: [east] } };
    const copy = JSON.stringify({ ...input, observed: { ...input.observed, links: [] } });
    planPass(input);
    expect(JSON.stringify({ ...input, observed: { ...input.observed, links: [] } })).toBe(copy);
  });
});

describe('planPass: NAT', () => {
  const gn = createGlobalnet({ globalCidr: '242.1.0.0/16' });
  gn.allocateEgress({ kind: 'cluster' }, 2);
  const nat = planGlobalnetNat({
    globalCidr: '242.1.0.0/16',
    localCidrs: ['10.20.0.0/16'],
    remoteGlobalCidrs: ['242.0.0.0/16'],
    egress: gn.egress(),
    ingress: [],
    pods: [],
  });
  const script = renderNft(nat);
  const kinds = (p: ReturnType<typeof planPass>) => p.commands.map((c) => `${c.kind}:${c.args.join(' ')}`);

  it('loads the table when it is missing', () => {
    const p = planPass({ spec: spec(east, { nat }), observed: observed(east) });
    expect(kinds(p)).toEqual(['nat:-f -']);
    expect(p.commands[0]!.input).toBe(script);
  });
  it('skips it when the agent loaded this script and the table still lists the same', () => {
    const memory = { nat: { family: 'ip' as const, script, fingerprint: 'F' } };
    expect(
      planPass({
        spec: spec(east, { nat }),
        observed: observed(east, { natTables: ['ip'], natFingerprints: { ip: 'F' } }),
        memory,
      }).commands,
    ).toEqual([]);
    const drift = planPass({
      spec: spec(east, { nat }),
      observed: observed(east, { natTables: ['ip'], natFingerprints: { ip: 'G' } }),
      memory,
    });
    expect(kinds(drift)).toEqual(['nat:-f -']);
    expect(drift.reasons).toEqual(['nat: table changed since it was loaded']);
    expect(
      kinds(
        planPass({
          spec: spec(east, { nat }),
          observed: observed(east, { natTables: ['ip'], natFingerprints: { ip: 'F' } }),
        }),
      ),
    ).toEqual(['nat:-f -']);
  });
  it("deletes isthmus's table in a family the plan does not use, and never touches other tables", () => {
    const p = planPass({
      spec: spec(east),
      observed: observed(east, { natTables: ['ip', 'ip6'], natFingerprints: { ip: 'F', ip6: 'G' } }),
    });
    expect(kinds(p)).toEqual([
      'nat-delete:delete table ip isthmus-globalnet',
      'nat-delete:delete table ip6 isthmus-globalnet',
    ]);
  });
});

describe('planPass: WireGuard cable', () => {
  const key = generateWireGuardKeyPair();
  const peer = generateWireGuardKeyPair().publicKey;
  const cable: NodeCableSpec = {
    driver: 'wireguard',
    interface: 'wg-east',
    mtu: 1440,
    listenPort: 4500,
    secretFile: '/etc/isthmus/wg.key',
    peers: [{ publicKey: peer, endpoint: '198.18.0.2:4500', allowedIPs: ['10.20.0.0/16'] }],
  };
  const cableKey = { privateKey: key.privateKey, publicKey: key.publicKey };
  const wgState = {
    publicKey: key.publicKey,
    listenPort: 4500,
    peers: [
      { publicKey: peer, endpoint: '198.18.0.2:4500', allowedIPs: ['10.20.0.0/16'], persistentKeepalive: 0 },
    ],
  };

  it('creates, configures and raises a missing device before the routes that use it; the config is a redacted Secret', () => {
    const p = planPass({
      spec: spec(east, { cable }),
      observed: observed(emptyPlan()),
      cableKey,
      createWireGuard: (i) => ['wireguard-go', i],
    });
    expect(p.commands.map((c) => c.kind)).toEqual([
      'cable-create',
      'cable-config',
      'cable-link',
      'routes',
      'routes',
    ]);
    expect(p.commands[0]!.args).toEqual(['wg-east']);
    expect(JSON.stringify(p)).not.toContain(key.privateKey.reveal());
    expect(String(p.commands[1]!.input)).toBe('[redacted]');
  });
  it('does nothing when the device matches; fixes only what differs', () => {
    const links = new Map([['wg-east', { name: 'wg-east', mtu: 1440, up: true }]]);
    expect(
      planPass({
        spec: spec(east, { cable }),
        observed: observed(east, { links, wireguard: wgState }),
        cableKey,
      }).commands,
    ).toEqual([]);
    const down = new Map([['wg-east', { name: 'wg-east', mtu: 1420, up: false }]]);
    expect(
      planPass({
        spec: spec(east, { cable }),
        observed: observed(east, { links: down, wireguard: wgState }),
        cableKey,
      }).commands.map((c) => c.kind),
    ).toEqual(['cable-link']);
    const other = planPass({
      spec: spec(east, { cable }),
      observed: observed(east, { links, wireguard: { ...wgState, peers: [] } }),
      cableKey,
    });
    expect(other.commands.map((c) => c.kind)).toEqual(['cable-config']);
    expect(other.reasons).toEqual([`cable wg-east: peer ${peer} missing`]);
  });
  it('refuses drivers it does not apply, a missing key and a bad MTU', () => {
    expect(
      code(() =>
        planPass({
          spec: spec(east, { cable: { ...cable, driver: 'libreswan' } }),
          observed: observed(east),
          cableKey,
        }),
      ),
    ).toBe('UNSUPPORTED_CABLE');
    expect(code(() => planPass({ spec: spec(east, { cable }), observed: observed(east) }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      code(() =>
        planPass({ spec: spec(east, { cable: { ...cable, mtu: 100 } }), observed: observed(east), cableKey }),
      ),
    ).toBe('INVALID_PLAN');
    expect(
      code(() =>
        planPass({
          spec: spec(east, { cable: { ...cable, peers: [{ ...cable.peers![0]!, endpoint: 'gw:1' }] } }),
          observed: observed(east),
          cableKey,
        }),
      ),
    ).toBe('INVALID_PLAN');
  });
});

describe('scopeObserved', () => {
  it('keeps what the desired and previous plans manage, nothing else', () => {
    const kernel = mergePlans(east, foreign);
    expect(scopeObserved(kernel, east)).toEqual(east);
    expect(scopeObserved(kernel, emptyPlan(), [east])).toEqual(east);
    expect(diffPlan(scopeObserved(kernel, emptyPlan()), emptyPlan()).delete).toEqual(emptyPlan());
  });
});

describe('planPass: a VXLAN cable', () => {
  // The core's gateway plan without its NAT part (tested above).
  const { nat: _nat, ...gw } = gatewayNodePlans().east;
  it('is applied by the route pass: no cable command and no key; the device, VTEP, FDB and neighbour are route steps', () => {
    expect(gw.cable).toEqual({ driver: 'vxlan', interface: 'vxlan-tunnel', mtu: 1450 });
    const pass = planPass({ spec: gw, observed: observed(emptyPlan()) });
    expect(pass.commands.map((c) => c.kind)).toEqual(['routes', 'routes']);
    const ip = String(pass.commands[0]!.input);
    expect(ip).toMatch(
      /^link add vxlan-tunnel address 0e:fd:f1:12:00:01 mtu 1450 type vxlan id 1000 dstport 4500 local 198\.18\.0\.1 nolearning$/m,
    );
    expect(ip).toContain('addr add 241.18.0.1/8 dev vxlan-tunnel');
    expect(ip).toContain('neigh replace 241.18.0.2 lladdr 0e:fd:f1:12:00:02 dev vxlan-tunnel nud permanent');
    expect(ip).toContain('route add 242.1.0.0/16 via 241.18.0.2 dev vxlan-tunnel onlink table 150');
    expect(String(pass.commands[1]!.input)).toContain(
      'fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 198.18.0.2',
    );
    // The kernel holding the plan: nothing to do.
    expect(planPass({ spec: gw, observed: observed(pass.desired) }).commands).toEqual([]);
  });
  it('must be described by spec.routes: a missing device or another MTU is INVALID_PLAN', () => {
    const noDevice = { ...gw.routes, devices: gw.routes.devices.filter((d) => d.name !== 'vxlan-tunnel') };
    expect(code(() => planPass({ spec: { ...gw, routes: noDevice }, observed: observed(emptyPlan()) }))).toBe(
      'INVALID_PLAN',
    );
    const cable = { ...gw.cable!, mtu: 1400 };
    expect(code(() => planPass({ spec: { ...gw, cable }, observed: observed(emptyPlan()) }))).toBe(
      'INVALID_PLAN',
    );
  });
});
