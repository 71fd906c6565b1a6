// Real translation through network namespaces: a client in cluster A, A's gateway, B's gateway and a
// server in cluster B, both clusters on 10.0.0.0/16. Only the rendered nft rules make them reach each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns } from '../../../testing/netns';
import { allocateClusterCidr } from './allot';
import { createGlobalnet } from './globalnet';
import { planGlobalnetNat } from './nat-plan';
import { planRemap, remapAddress } from './remap';
import { planRemapNat } from './remap-nat';
import { renderIptables } from './render-iptables';
import { renderNft } from './render-nft';

const PORT = 8080;
// Answers each connection with the source address it sees, then closes.
const serverOn = (host: string) => `const net = require('node:net');
net.createServer((s) => s.end(s.remoteAddress.replace(/^::ffff:/, ''))).listen(${PORT}, ${JSON.stringify(host)}, () => console.log('listening'));`;
const SERVER = serverOn('0.0.0.0');
const SERVER6 = serverOn('::');

function client(host: string, localAddress: string, timeoutMs = 5000): string {
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

interface Topology {
  client: Netns;
  gwA: Netns;
  gwB: Netns;
  server: Netns;
}

/** client(10.0.0.10-12) - gwA(10.0.0.1 | 192.0.2.1) - gwB(192.0.2.2 | 10.0.0.1) - server(10.0.0.20). */
async function topology(lab: Lab, routeAtoB: string, routeBtoA: string): Promise<Topology> {
  const [client, gwA, gwB, server] = await Promise.all(['cli', 'gwa', 'gwb', 'srv'].map((n) => lab.netns(n)));
  await lab.veth(client!, 'eth0', gwA!, 'eth0', {
    a: ['10.0.0.10/16', '10.0.0.11/16', '10.0.0.12/16'],
    b: ['10.0.0.1/16'],
  });
  await lab.veth(gwA!, 'eth1', gwB!, 'eth1', { a: ['192.0.2.1/24'], b: ['192.0.2.2/24'] });
  await lab.veth(server!, 'eth0', gwB!, 'eth0', { a: ['10.0.0.20/16', '100.0.0.10/32'], b: ['10.0.0.1/16'] });
  await client!.must('ip', ['route', 'add', 'default', 'via', '10.0.0.1']);
  await server!.must('ip', ['route', 'add', 'default', 'via', '10.0.0.1']);
  await gwA!.must('ip', ['route', 'add', routeAtoB, 'via', '192.0.2.2']);
  await gwB!.must('ip', ['route', 'add', routeBtoA, 'via', '192.0.2.1']);
  await gwB!.must('ip', ['route', 'add', '100.0.0.10/32', 'via', '10.0.0.20']);
  for (const gw of [gwA!, gwB!]) await gw.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  return { client: client!, gwA: gwA!, gwB: gwB!, server: server! };
}

async function connect(t: Topology, host: string, from: string): Promise<string> {
  const r = await t.client.run(process.execPath, ['-e', client(host, from)], { timeoutMs: 10_000 });
  expect(r.code, `${from} -> ${host}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

describeKernel(
  'Globalnet NAT translates real traffic between overlapping clusters',
  ['netns', 'veth', 'nft', 'ping'],
  () => {
    const lab = new Lab('gnxlate');
    let t: Topology;
    const A = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    const B = createGlobalnet({ globalCidr: '242.1.0.0/16' });
    const clusterBlock = A.allocateEgress({ kind: 'cluster' });
    const nsBlock = A.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2);
    const dbBlock = A.allocateEgress({
      kind: 'pods',
      namespace: 'shop',
      name: 'db',
      selector: { matchLabels: { app: 'db' } },
    });
    const svcIp = B.allocateIngress({ kind: 'service', namespace: 'web', name: 'front' });
    const podIp = B.allocateIngress({ kind: 'pod', namespace: 'web', name: 'server-0' });
    const hcIp = B.allocateHealthCheck('gw-b');

    beforeAll(async () => {
      t = await topology(lab, '242.1.0.0/16', '242.0.0.0/16');
      const planA = planGlobalnetNat({
        globalCidr: A.globalCidr,
        localCidrs: ['10.0.0.0/16'],
        remoteGlobalCidrs: [B.globalCidr],
        egress: A.egress(),
        ingress: [],
        pods: [
          { namespace: 'other', name: 'a', ips: ['10.0.0.10'] },
          { namespace: 'shop', name: 'b', ips: ['10.0.0.11'] },
          { namespace: 'shop', name: 'c', labels: { app: 'db' }, ips: ['10.0.0.12'] },
        ],
      });
      const planB = planGlobalnetNat({
        globalCidr: B.globalCidr,
        localCidrs: ['10.0.0.0/16', '100.0.0.0/16'],
        remoteGlobalCidrs: [A.globalCidr],
        egress: [],
        ingress: B.ingress().map((i) => (i.target.kind === 'service' ? { ...i, ip: '100.0.0.10' } : i)),
        healthChecks: B.healthChecks().map((h) => ({ ...h, cniIp: '10.0.0.1' })),
        pods: [{ namespace: 'web', name: 'server-0', ips: ['10.0.0.20'] }],
      });
      await t.gwA.must('nft', ['-f', '-'], { input: renderNft(planA) });
      await t.gwB.must('nft', ['-f', '-'], { input: renderNft(planB) });
      const server = await t.server.start(process.execPath, ['-e', SERVER]);
      await waitFor(() => server.output().includes('listening'));
    }, 60_000);
    afterAll(() => lab.cleanup());

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
      const r = await t.client.run(process.execPath, ['-e', client(svcIp, '10.0.0.10', 1500)], {
        timeoutMs: 10_000,
      });
      expect(r.code).not.toBe(0);
    });
  },
);

/** The IPv6 twin: client(fd00:10::10-12) - gwA(fd00:10::1 | 2001:db8::1) - gwB(2001:db8::2 | fd00:10::1) - server(fd00:10::20). */
async function topology6(lab: Lab, routeAtoB: string, routeBtoA: string): Promise<Topology> {
  const [client, gwA, gwB, server] = await Promise.all(['cli', 'gwa', 'gwb', 'srv'].map((n) => lab.netns(n)));
  // Link-local addresses wait out DAD (about 2 s) before neighbour discovery answers: skip it on the new veths.
  for (const ns of [client!, gwA!, gwB!, server!]) {
    await ns.must('sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0']);
  }
  await lab.veth(client!, 'eth0', gwA!, 'eth0', {
    a: ['fd00:10::10/64', 'fd00:10::11/64', 'fd00:10::12/64'],
    b: ['fd00:10::1/64'],
  });
  await lab.veth(gwA!, 'eth1', gwB!, 'eth1', { a: ['2001:db8::1/64'], b: ['2001:db8::2/64'] });
  await lab.veth(server!, 'eth0', gwB!, 'eth0', {
    a: ['fd00:10::20/64', 'fd00:96::10/128'],
    b: ['fd00:10::1/64'],
  });
  await client!.must('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:10::1']);
  await server!.must('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:10::1']);
  await gwA!.must('ip', ['-6', 'route', 'add', routeAtoB, 'via', '2001:db8::2']);
  await gwB!.must('ip', ['-6', 'route', 'add', routeBtoA, 'via', '2001:db8::1']);
  await gwB!.must('ip', ['-6', 'route', 'add', 'fd00:96::10/128', 'via', 'fd00:10::20']);
  for (const gw of [gwA!, gwB!]) await gw.must('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  return { client: client!, gwA: gwA!, gwB: gwB!, server: server! };
}

// Both clusters on fd00:10::/64, their global CIDRs /64s of one ULA /48 handed out by the broker.
describeKernel(
  'Globalnet NAT translates real IPv6 traffic between overlapping clusters',
  ['netns', 'veth', 'nft', 'ping'],
  () => {
    const lab = new Lab('gnxlate6');
    let t: Topology;
    const range = 'fd42:0:1::/48';
    const a = allocateClusterCidr({}, 'a', { range });
    const b = allocateClusterCidr(a.allotments, 'b', { range });
    const A = createGlobalnet({ globalCidr: a.cidr });
    const B = createGlobalnet({ globalCidr: b.cidr });
    const clusterBlock = A.allocateEgress({ kind: 'cluster' });
    const nsBlock = A.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2);
    const dbBlock = A.allocateEgress({
      kind: 'pods',
      namespace: 'shop',
      name: 'db',
      selector: { matchLabels: { app: 'db' } },
    });
    const svcIp = B.allocateIngress({ kind: 'service', namespace: 'web', name: 'front' });
    const podIp = B.allocateIngress({ kind: 'pod', namespace: 'web', name: 'server-0' });
    const hcIp = B.allocateHealthCheck('gw-b');

    beforeAll(async () => {
      t = await topology6(lab, b.cidr, a.cidr);
      const planA = planGlobalnetNat({
        globalCidr: A.globalCidr,
        localCidrs: ['fd00:10::/64'],
        remoteGlobalCidrs: [B.globalCidr],
        egress: A.egress(),
        ingress: [],
        pods: [
          { namespace: 'other', name: 'a', ips: ['fd00:10::10'] },
          { namespace: 'shop', name: 'b', ips: ['fd00:10::11'] },
          { namespace: 'shop', name: 'c', labels: { app: 'db' }, ips: ['fd00:10::12'] },
        ],
      });
      const planB = planGlobalnetNat({
        globalCidr: B.globalCidr,
        localCidrs: ['fd00:10::/64', 'fd00:96::/112'],
        remoteGlobalCidrs: [A.globalCidr],
        egress: [],
        ingress: B.ingress().map((i) => (i.target.kind === 'service' ? { ...i, ip: 'fd00:96::10' } : i)),
        healthChecks: B.healthChecks().map((h) => ({ ...h, cniIp: 'fd00:10::1' })),
        pods: [{ namespace: 'web', name: 'server-0', ips: ['fd00:10::20'] }],
      });
      await t.gwA.must('nft', ['-f', '-'], { input: renderNft(planA) });
      await t.gwB.must('nft', ['-f', '-'], { input: renderNft(planB) });
      const server = await t.server.start(process.execPath, ['-e', SERVER6]);
      await waitFor(() => server.output().includes('listening'));
    }, 60_000);
    afterAll(() => lab.cleanup());

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
      const r = await t.client.run(process.execPath, ['-e', client(svcIp, 'fd00:10::10', 1500)], {
        timeoutMs: 10_000,
      });
      expect(r.code).not.toBe(0);
    });
  },
);

// CNIs masquerade pod traffic leaving the cluster (flannel, Calico natOutgoing) and were loaded first; the
// Globalnet SNAT must still win, as Submariner's prepended jumps make it.
describeKernel(
  'Globalnet egress SNAT wins over a CNI masquerade already on the gateway',
  ['netns', 'veth', 'nft', 'iptables', 'ipset'],
  () => {
    const lab = new Lab('gnmasq');
    let t: Topology;
    const A = createGlobalnet({ globalCidr: '242.0.0.0/16' });
    const B = createGlobalnet({ globalCidr: '242.1.0.0/16' });
    const block = A.allocateEgress({ kind: 'cluster' });
    const svcIp = B.allocateIngress({ kind: 'service', namespace: 'web', name: 'front' });
    const planA = planGlobalnetNat({
      globalCidr: A.globalCidr,
      localCidrs: ['10.0.0.0/16'],
      remoteGlobalCidrs: [B.globalCidr],
      egress: A.egress(),
      ingress: [],
      pods: [],
    });

    beforeAll(async () => {
      t = await topology(lab, '242.1.0.0/16', '242.0.0.0/16');
      const planB = planGlobalnetNat({
        globalCidr: B.globalCidr,
        localCidrs: ['10.0.0.0/16', '100.0.0.0/16'],
        remoteGlobalCidrs: [A.globalCidr],
        egress: [],
        ingress: B.ingress().map((i) => ({ ...i, ip: '100.0.0.10' })),
        pods: [],
      });
      await t.gwB.must('nft', ['-f', '-'], { input: renderNft(planB) });
      const server = await t.server.start(process.execPath, ['-e', SERVER]);
      await waitFor(() => server.output().includes('listening'));
    }, 60_000);
    afterAll(() => lab.cleanup());

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
  const lab = new Lab('gnremap');
  let t: Topology;
  const local = ['10.0.0.0/16'];
  const planA = planRemap(local, [{ cluster: 'b', prefixes: local }], { remapRange: '10.128.0.0/9' });
  const planB = planRemap(local, [{ cluster: 'a', prefixes: local }], { remapRange: '172.0.0.0/11' });

  beforeAll(async () => {
    t = await topology(lab, planA.peers[0]!.mappings[0]!.seenAs, planB.peers[0]!.mappings[0]!.seenAs);
    const natA = planRemapNat({ remap: planA, seenBy: { b: planB.peers[0]!.mappings } });
    const natB = planRemapNat({ remap: planB, seenBy: { a: planA.peers[0]!.mappings } });
    await t.gwA.must('nft', ['-f', '-'], { input: renderNft(natA) });
    await t.gwB.must('nft', ['-f', '-'], { input: renderNft(natB) });
    const server = await t.server.start(process.execPath, ['-e', SERVER]);
    await waitFor(() => server.output().includes('listening'));
  }, 60_000);
  afterAll(() => lab.cleanup());

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
    const r = await t.client.run(process.execPath, ['-e', client('10.128.0.20', '10.0.0.10', 1500)], {
      timeoutMs: 10_000,
    });
    expect(r.code).not.toBe(0);
  });
});

describeKernel(
  'IPv6 remap NAT translates prefix to prefix, keeping host bits',
  ['netns', 'veth', 'nft'],
  () => {
    const lab = new Lab('gnremap6');
    let t: Topology;
    const local = ['fd00:10::/64'];
    const planA = planRemap(local, [{ cluster: 'b', prefixes: local }], { remapRange: 'fd99::/48' });
    const planB = planRemap(local, [{ cluster: 'a', prefixes: local }], { remapRange: 'fd98::/48' });

    beforeAll(async () => {
      t = await topology6(lab, planA.peers[0]!.mappings[0]!.seenAs, planB.peers[0]!.mappings[0]!.seenAs);
      const natA = planRemapNat({ remap: planA, seenBy: { b: planB.peers[0]!.mappings } });
      const natB = planRemapNat({ remap: planB, seenBy: { a: planA.peers[0]!.mappings } });
      await t.gwA.must('nft', ['-f', '-'], { input: renderNft(natA) });
      await t.gwB.must('nft', ['-f', '-'], { input: renderNft(natB) });
      const server = await t.server.start(process.execPath, ['-e', SERVER6]);
      await waitFor(() => server.output().includes('listening'));
    }, 60_000);
    afterAll(() => lab.cleanup());

    it('a client in A reaches the server in B at the address A sees, and is seen at the address B sees', async () => {
      const target = remapAddress(planA, 'b', 'fd00:10::20')!;
      expect(target).toBe('fd99::20');
      for (const from of ['fd00:10::10', 'fd00:10::12']) {
        expect(await connect(t, target, from)).toBe(remapAddress(planB, 'a', from));
      }
    });

    it('without the rules nothing gets through (the test can fail)', async () => {
      await t.gwB.must('nft', ['delete', 'table', 'ip6', 'isthmus-remap']);
      const r = await t.client.run(process.execPath, ['-e', client('fd99::20', 'fd00:10::10', 1500)], {
        timeoutMs: 10_000,
      });
      expect(r.code).not.toBe(0);
    });
  },
);
