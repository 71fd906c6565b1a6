// Real translation through network namespaces: a client in cluster A, A's gateway, B's gateway and a
// server in cluster B, both clusters on one pod CIDR. Only the rendered nft rules make them reach each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns, type RunResult } from '../../../testing/netns';
import { allocateClusterCidr } from './allot';
import { createGlobalnet, type Globalnet } from './globalnet';
import { type GlobalnetNatPlan, planGlobalnetNat } from './nat-plan';
import { planRemap, type RemapPlan, remapAddress } from './remap';
import { planRemapNat, type RemapNatPlan } from './remap-nat';
import { renderIptables } from './render-iptables';
import { renderNft } from './render-nft';

const PORT = 8080;
// Answers each connection with the source address it sees, then closes.
const serverOn = (host: string) => `const net = require('node:net');
net.createServer((s) => s.end(s.remoteAddress.replace(/^::ffff:/, ''))).listen(${PORT}, ${JSON.stringify(host)}, () => console.log('listening'));`;

function client(host: string, localAddress: string, timeoutMs: number): string {
  return `const s = require('node:net').connect({ host: ${JSON.stringify(host)}, port: ${PORT}, localAddress: ${JSON.stringify(localAddress)} });
let out = ''; s.on('data', (d) => { out += d; }); s.on('end', () => { console.log(out); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(1); }); setTimeout(() => { console.error('timeout'); process.exit(2); }, ${timeoutMs});`;
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the IPv4 and IPv6 labs differ in; both number hosts alike: .1 gateway, .10-.12 clients, .20 server. */
interface Family {
  readonly nft: 'ip' | 'ip6';
  /** Prepended to `ip route` arguments. */
  readonly ip: readonly string[];
  /** Both clusters' pod CIDR and host `n` in it. */
  readonly cluster: string;
  readonly host: (n: number) => string;
  /** Gateway `n` on the link between the gateways, and that link's prefix length. */
  readonly underlay: (n: number) => string;
  readonly underlayLen: number;
  /** The service's ClusterIP (held by the server) and B's service CIDR. */
  readonly vip: string;
  readonly vipLen: number;
  readonly services: string;
  readonly forwarding: string;
  readonly server: string;
}

const V4: Family = {
  nft: 'ip',
  ip: [],
  cluster: '10.0.0.0/16',
  host: (n) => `10.0.0.${n}`,
  underlay: (n) => `192.0.2.${n}`,
  underlayLen: 24,
  vip: '100.0.0.10',
  vipLen: 32,
  services: '100.0.0.0/16',
  forwarding: 'net.ipv4.ip_forward=1',
  server: serverOn('0.0.0.0'),
};

// Both clusters on fd00:10::/64, routed over 2001:db8::/64.
const V6: Family = {
  nft: 'ip6',
  ip: ['-6'],
  cluster: 'fd00:10::/64',
  host: (n) => `fd00:10::${n}`,
  underlay: (n) => `2001:db8::${n}`,
  underlayLen: 64,
  vip: 'fd00:96::10',
  vipLen: 128,
  services: 'fd00:96::/112',
  forwarding: 'net.ipv6.conf.all.forwarding=1',
  server: serverOn('::'),
};

interface Topology {
  client: Netns;
  gwA: Netns;
  gwB: Netns;
  server: Netns;
}

/** client(.10-.12) - gwA(.1 | underlay .1) - gwB(underlay .2 | .1) - server(.20 and the VIP). */
async function topology(lab: Lab, f: Family, routeAtoB: string, routeBtoA: string): Promise<Topology> {
  const [client, gwA, gwB, server] = await Promise.all(['cli', 'gwa', 'gwb', 'srv'].map((n) => lab.netns(n)));
  const len = f.cluster.slice(f.cluster.indexOf('/'));
  const inCluster = (...hosts: number[]) => hosts.map((n) => f.host(n) + len);
  const onUnderlay = (n: number) => [`${f.underlay(n)}/${f.underlayLen}`];
  const vip = `${f.vip}/${f.vipLen}`;
  await lab.veth(client!, 'eth0', gwA!, 'eth0', { a: inCluster(10, 11, 12), b: inCluster(1) });
  await lab.veth(gwA!, 'eth1', gwB!, 'eth1', { a: onUnderlay(1), b: onUnderlay(2) });
  await lab.veth(server!, 'eth0', gwB!, 'eth0', {
    a: [...inCluster(20), vip],
    b: inCluster(1),
  });
  const route = (ns: Netns, to: string, via: string) =>
    ns.must('ip', [...f.ip, 'route', 'add', to, 'via', via]);
  await route(client!, 'default', f.host(1));
  await route(server!, 'default', f.host(1));
  await route(gwA!, routeAtoB, f.underlay(2));
  await route(gwB!, routeBtoA, f.underlay(1));
  await route(gwB!, vip, f.host(20));
  for (const gw of [gwA!, gwB!]) await gw.must('sysctl', ['-qw', f.forwarding]);
  return { client: client!, gwA: gwA!, gwB: gwB!, server: server! };
}

/**
 * Registers the suite's set-up (topology, `rules`, a listening server) and tear-down. The returned
 * topology is filled in by the set-up, so tests can hold it from the start.
 */
function withLab(
  tag: string,
  f: Family,
  routes: readonly [aToB: string, bToA: string],
  rules: (t: Topology) => Promise<unknown>,
): Topology {
  const lab = new Lab(tag);
  const t = {} as Topology;
  beforeAll(async () => {
    Object.assign(t, await topology(lab, f, ...routes));
    await rules(t);
    const server = await t.server.start(process.execPath, ['-e', f.server]);
    await waitFor(() => server.output().includes('listening'));
  }, 60_000);
  afterAll(() => lab.cleanup());
  return t;
}

const load = (ns: Netns, plan: GlobalnetNatPlan | RemapNatPlan) =>
  ns.must('nft', ['-f', '-'], { input: renderNft(plan) });

function dial(t: Topology, host: string, from: string, timeoutMs = 5000): Promise<RunResult> {
  return t.client.run(process.execPath, ['-e', client(host, from, timeoutMs)], { timeoutMs: 10_000 });
}

async function connect(t: Topology, host: string, from: string): Promise<string> {
  const r = await dial(t, host, from);
  expect(r.code, `${from} -> ${host}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** A's side: clients .10 (namespace other), .11 (shop) and .12 (shop, app=db) leave through its egress. */
function planSideA(f: Family, A: Globalnet, B: Globalnet): GlobalnetNatPlan {
  return planGlobalnetNat({
    globalCidr: A.globalCidr,
    localCidrs: [f.cluster],
    remoteGlobalCidrs: [B.globalCidr],
    egress: A.egress(),
    ingress: [],
    pods: [
      { namespace: 'other', name: 'a', ips: [f.host(10)] },
      { namespace: 'shop', name: 'b', ips: [f.host(11)] },
      { namespace: 'shop', name: 'c', labels: { app: 'db' }, ips: [f.host(12)] },
    ],
  });
}

/** B's side: the service's ClusterIP is the VIP on the server, the health check answers at gateway .1. */
function planSideB(f: Family, A: Globalnet, B: Globalnet): GlobalnetNatPlan {
  return planGlobalnetNat({
    globalCidr: B.globalCidr,
    localCidrs: [f.cluster, f.services],
    remoteGlobalCidrs: [A.globalCidr],
    egress: [],
    ingress: B.ingress().map((i) => (i.target.kind === 'service' ? { ...i, ip: f.vip } : i)),
    healthChecks: B.healthChecks().map((h) => ({ ...h, cniIp: f.host(1) })),
    pods: [{ namespace: 'web', name: 'server-0', ips: [f.host(20)] }],
  });
}

/** A's egress at each scope and B's ingress and health check, in the order both Globalnet suites need. */
function allocateAll(A: Globalnet, B: Globalnet) {
  return {
    clusterBlock: A.allocateEgress({ kind: 'cluster' }),
    nsBlock: A.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2),
    dbBlock: A.allocateEgress({
      kind: 'pods',
      namespace: 'shop',
      name: 'db',
      selector: { matchLabels: { app: 'db' } },
    }),
    svcIp: B.allocateIngress({ kind: 'service', namespace: 'web', name: 'front' }),
    podIp: B.allocateIngress({ kind: 'pod', namespace: 'web', name: 'server-0' }),
    hcIp: B.allocateHealthCheck('gw-b'),
  };
}

const globalnetLab = (tag: string, f: Family, A: Globalnet, B: Globalnet) =>
  withLab(tag, f, [B.globalCidr, A.globalCidr], async (t) => {
    await load(t.gwA, planSideA(f, A, B));
    await load(t.gwB, planSideB(f, A, B));
  });

/** Each gateway maps the other cluster's (identical) pod CIDR into its own remap range. */
function remapLab(tag: string, f: Family, rangeA: string, rangeB: string) {
  const local = [f.cluster];
  const planA = planRemap(local, [{ cluster: 'b', prefixes: local }], { remapRange: rangeA });
  const planB = planRemap(local, [{ cluster: 'a', prefixes: local }], { remapRange: rangeB });
  const seen = (p: RemapPlan) => p.peers[0]!.mappings;
  const t = withLab(tag, f, [seen(planA)[0]!.seenAs, seen(planB)[0]!.seenAs], async (t) => {
    await load(t.gwA, planRemapNat({ remap: planA, seenBy: { b: seen(planB) } }));
    await load(t.gwB, planRemapNat({ remap: planB, seenBy: { a: seen(planA) } }));
  });
  return { t, planA, planB };
}

describeKernel(
  'Globalnet NAT translates real traffic between overlapping clusters',
  ['netns', 'veth', 'nft', 'ping'],
  () => {
    const A = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    const B = createGlobalnet({ globalCidr: '242.1.0.0/16' });
    const { clusterBlock, nsBlock, dbBlock, svcIp, podIp, hcIp } = allocateAll(A, B);
    const t = globalnetLab('gnxlate', V4, A, B);

    it('the server sees the egress global IP of the most specific scope as source', async () => {
      const inBlock = (ip: string, block: string[]) => block.includes(ip);
      const cluster = await connect(t, svcIp, '10.0.0.10');
      expect(inBlock(cluster, clusterBlock), `${cluster} not in ${clusterBlock}`).toBe(true);
      const ns = await connect(t, svcIp, '10.0.0.11');
      expect(inBlock(ns, nsBlock), `${ns} not in ${nsBlock}`).toBe(true);
      expect(await connect(t, svcIp, '10.0.0.12')).toBe(dbBlock[0]);
    });

    it('the client reaches the server through its ingress global IPs (service and headless pod)', async () => {
      expect(await connect(t, podIp, '10.0.0.10')).toMatch(/^242\.0\.0\.[1-8]$/);
    });

    it("health-check pings to the gateway's global IP reach the gateway", async () => {
      const r = await t.client.run('ping', ['-c', '1', '-W', '2', '-I', '10.0.0.10', hcIp]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    it('without the rules nothing gets through (the test can fail)', async () => {
      await t.gwA.must('nft', ['delete', 'table', 'ip', 'isthmus-globalnet']);
      expect((await dial(t, svcIp, '10.0.0.10', 1500)).code).not.toBe(0);
    });
  },
);

// Both clusters' global CIDRs are /64s of one ULA /48 handed out by the broker.
describeKernel(
  'Globalnet NAT translates real IPv6 traffic between overlapping clusters',
  ['netns', 'veth', 'nft', 'ping'],
  () => {
    const range = 'fd42:0:1::/48';
    const a = allocateClusterCidr({}, 'a', { range });
    const b = allocateClusterCidr(a.allotments, 'b', { range });
    const A = createGlobalnet({ globalCidr: a.cidr });
    const B = createGlobalnet({ globalCidr: b.cidr });
    const { clusterBlock, nsBlock, dbBlock, svcIp, podIp, hcIp } = allocateAll(A, B);
    const t = globalnetLab('gnxlate6', V6, A, B);

    it('the global CIDRs are /64s of the ULA range', () => {
      expect([a.cidr, b.cidr]).toEqual(['fd42:0:1::/64', 'fd42:0:1:1::/64']);
    });

    it('the server sees the egress global IPv6 address of the most specific scope as source', async () => {
      const cluster = await connect(t, svcIp, 'fd00:10::10');
      expect(clusterBlock, `server saw ${cluster}`).toContain(cluster);
      const ns = await connect(t, svcIp, 'fd00:10::11');
      expect(nsBlock, `server saw ${ns}`).toContain(ns);
      expect(await connect(t, svcIp, 'fd00:10::12')).toBe(dbBlock[0]);
    });

    it('the client reaches the server through its ingress global IPv6 addresses (service and headless pod)', async () => {
      const seen = await connect(t, podIp, 'fd00:10::10');
      expect(clusterBlock, `server saw ${seen}`).toContain(seen);
    });

    it("health-check pings to the gateway's global IPv6 address reach the gateway", async () => {
      const r = await t.client.run('ping', ['-6', '-c', '1', '-W', '2', '-I', 'fd00:10::10', hcIp]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    it('without the rules nothing gets through (the test can fail)', async () => {
      await t.gwA.must('nft', ['delete', 'table', 'ip6', 'isthmus-globalnet']);
      expect((await dial(t, svcIp, 'fd00:10::10', 1500)).code).not.toBe(0);
    });
  },
);

// CNIs masquerade pod traffic leaving the cluster (flannel, Calico natOutgoing) and were loaded first; the
// Globalnet SNAT must still win, as Submariner's prepended jumps make it.
describeKernel(
  'Globalnet egress SNAT wins over a CNI masquerade already on the gateway',
  ['netns', 'veth', 'nft', 'iptables', 'ipset'],
  () => {
    const A = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    const B = createGlobalnet({ globalCidr: '242.1.0.0/16' });
    const block = A.allocateEgress({ kind: 'cluster' });
    const svcIp = B.allocateIngress({ kind: 'service', namespace: 'web', name: 'front' });
    const planA = planSideA(V4, A, B);
    const t = withLab('gnmasq', V4, [B.globalCidr, A.globalCidr], (t) => load(t.gwB, planSideB(V4, A, B)));

    it('nft: the server sees the egress global IP, not the masqueraded gateway address', async () => {
      const cni =
        'table ip cni {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 10.0.0.0/16 oifname "eth1" masquerade\n\t}\n}\n';
      // Both load orders: nft runs chains of equal priority in an order we cannot rely on.
      for (const [first, second] of [
        [cni, renderNft(planA)],
        [renderNft(planA), cni],
      ] as const) {
        await t.gwA.must('nft', ['-f', '-'], { input: first });
        await t.gwA.must('nft', ['-f', '-'], { input: second });
        const seen = await connect(t, svcIp, '10.0.0.10');
        expect(block, `server saw ${seen}`).toContain(seen);
        await t.gwA.must('nft', ['delete', 'table', 'ip', 'cni']);
        await t.gwA.must('nft', ['delete', 'table', 'ip', 'isthmus-globalnet']);
      }
    });

    it('iptables: the same with the rendered restore text and its hooks', async () => {
      await t.gwA.must('iptables', [
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-s',
        '10.0.0.0/16',
        '-o',
        'eth1',
        '-j',
        'MASQUERADE',
      ]);
      const r = renderIptables(planA);
      await t.gwA.must('ipset', ['-exist', 'restore'], { input: r.ipsetRestore });
      await t.gwA.must(r.tool, ['--noflush'], { input: r.restore });
      for (const hook of r.hooks) await t.gwA.must('iptables', ['-t', 'nat', ...hook]);
      const seen = await connect(t, svcIp, '10.0.0.11');
      expect(block, `server saw ${seen}`).toContain(seen);
    });
  },
);

describeKernel('remap NAT translates prefix to prefix, keeping host bits', ['netns', 'veth', 'nft'], () => {
  const { t, planA, planB } = remapLab('gnremap', V4, '10.128.0.0/9', '172.0.0.0/11');

  describe('a client in A reaches the server in B at the address A sees for it', () => {
    it('and the server sees the client at the address B sees for it', async () => {
      const target = remapAddress(planA, 'b', '10.0.0.20')!;
      expect(target).toBe('10.128.0.20');
      for (const from of ['10.0.0.10', '10.0.0.12']) {
        expect(await connect(t, target, from)).toBe(remapAddress(planB, 'a', from));
      }
    });
  });

  it('without the rules nothing gets through (the test can fail)', async () => {
    await t.gwB.must('nft', ['delete', 'table', 'ip', 'isthmus-remap']);
    expect((await dial(t, '10.128.0.20', '10.0.0.10', 1500)).code).not.toBe(0);
  });
});

describeKernel(
  'IPv6 remap NAT translates prefix to prefix, keeping host bits',
  ['netns', 'veth', 'nft'],
  () => {
    const { t, planA, planB } = remapLab('gnremap6', V6, 'fd99::/48', 'fd98::/48');

    it('a client in A reaches the server in B at the address A sees, and is seen at the address B sees', async () => {
      const target = remapAddress(planA, 'b', 'fd00:10::20')!;
      expect(target).toBe('fd99::20');
      for (const from of ['fd00:10::10', 'fd00:10::12']) {
        expect(await connect(t, target, from)).toBe(remapAddress(planB, 'a', from));
      }
    });

    it('without the rules nothing gets through (the test can fail)', async () => {
      await t.gwB.must('nft', ['delete', 'table', 'ip6', 'isthmus-remap']);
      expect((await dial(t, 'fd99::20', 'fd00:10::10', 1500)).code).not.toBe(0);
    });
  },
);
