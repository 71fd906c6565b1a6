// Plans the routes of a two-NIC pod (Spiderpool coordinator semantics) and of a three-node P2P mesh,
// and prints them as `ip` commands and as a table. Run: pnpm tsx examples/route-planning/main.ts
import {
  createTopologyState,
  type Plan,
  planNodeRoutes,
  planPodRoutes,
  renderIpBatch,
  renderIptables,
  renderShell,
} from '@isthmus/route-planner';

function table(title: string, plan: Plan): void {
  console.log(`\n${title}`);
  const rows = [
    ['table', 'destination', 'next hop', 'device'],
    ...plan.routes.map((r) => [
      String(r.table),
      r.dst,
      r.via ?? (r.scope === 'link' ? 'link' : '-'),
      r.dev ?? '-',
    ]),
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(w[i]!)).join('  ')}`.trimEnd());
  for (const rule of plan.rules) {
    const sel =
      rule.fwmark !== undefined ? `fwmark 0x${rule.fwmark.toString(16)}` : `from ${rule.from ?? 'all'}`;
    console.log(`  rule ${rule.priority}: ${sel} lookup ${rule.table}`);
  }
}

// 1. A pod with an underlay eth0 (macvlan) and a second underlay NIC net1.
const pod = planPodRoutes({
  nics: [
    { name: 'eth0', addresses: ['172.100.0.210/24'], routes: [{ dst: 'default', via: '172.100.0.1' }] },
    {
      name: 'net1',
      addresses: ['172.101.0.5/24'],
      routes: [{ dst: 'default', via: '172.101.0.1', metric: 100 }],
    },
  ],
  nodeIPs: ['192.0.2.10'],
  clusterPodCIDRs: ['10.233.64.0/18'],
  serviceCIDRs: ['10.233.0.0/18'],
  podMACPrefix: '0a:1b',
  podKey: 'example-container',
});
console.log('# two-NIC pod: node namespace (apply first; it creates the veth pair)');
console.log(renderShell(renderIpBatch(pod.host, { peerNetns: 'pod-ns' })).trimEnd());
console.log('\n# two-NIC pod: pod namespace');
console.log(renderShell(renderIpBatch(pod.pod)).trimEnd());
console.log(`\n# iptables-restore --noflush (reply path)\n${renderIptables(pod.pod).ipv4.trimEnd()}`);
table('pod routes (tables: eth0 100, net1 101)', pod.pod);

// 2. A three-node P2P mesh across two clusters.
const mesh = createTopologyState({
  clusters: [
    { name: 'east', mode: 'p2p', podCIDRs: ['10.10.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] },
    { name: 'west', mode: 'p2p', podCIDRs: ['10.20.0.0/16'], serviceCIDRs: ['10.97.0.0/16'] },
  ],
  nodes: [
    { name: 'east-1', cluster: 'east', underlayIP: '198.18.0.1', podCIDRs: ['10.10.1.0/24'] },
    { name: 'west-1', cluster: 'west', underlayIP: '198.18.0.2', podCIDRs: ['10.20.1.0/24'] },
    { name: 'west-2', cluster: 'west', underlayIP: '198.18.0.3', podCIDRs: ['10.20.2.0/24'] },
  ],
});
console.log('\n# P2P mesh VTEPs');
for (const n of mesh.nodeNames()) {
  const i = mesh.node(n)!;
  console.log(
    `  ${n.padEnd(7)} underlay ${i.underlayIP.padEnd(11)} vtep ${i.vtep.padEnd(10)} mac ${i.vtepMAC}`,
  );
}
console.log('\n# P2P mesh: east-1');
console.log(renderShell(renderIpBatch(planNodeRoutes(mesh, 'east-1').plan)).trimEnd());
for (const n of mesh.nodeNames()) table(`routes of ${n}`, planNodeRoutes(mesh, n).plan);
