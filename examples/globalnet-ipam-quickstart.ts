import {
  allocateClusterCidr,
  createGlobalnet,
  findOverlaps,
  planGlobalnetNat,
  renderNft,
} from '@isthmus/globalnet-ipam';

// Two clusters on the default pod and service CIDRs: they overlap, so they need global IPs.
const overlaps = findOverlaps([
  { id: 'east', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.96.0.0/12'] },
  { id: 'west', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.96.0.0/12'] },
]);
console.log(overlaps.map((o) => `${o.a} overlaps ${o.b} on ${o.cidrs.map((c) => c.a).join(', ')}`));

// The broker gives each cluster a slice of 242.0.0.0/8 (a pure function over a plain record).
const east = allocateClusterCidr({}, 'east');
const west = allocateClusterCidr(east.allotments, 'west');
console.log(west.allotments); // { east: [ '242.0.0.0/16' ], west: [ '242.1.0.0/16' ] }

// West exports shop/web and lets its pods out through 8 cluster egress IPs.
const gn = createGlobalnet({ globalCidr: west.cidr });
gn.allocateEgress({ kind: 'cluster' });
const web = gn.allocateIngress({ kind: 'service', namespace: 'shop', name: 'web' });
console.log(`east reaches shop/web at ${web}`); // 242.1.0.9

// West's gateway NAT: DNAT web's global IP to its ClusterIP, SNAT traffic bound for east.
const plan = planGlobalnetNat({
  globalCidr: west.cidr,
  localCidrs: ['10.244.0.0/16', '10.96.0.0/12'],
  remoteGlobalCidrs: [east.cidr],
  egress: gn.egress(),
  ingress: gn.ingress().map((i) => ({ ...i, ip: '10.96.0.10' })),
  pods: [],
});
console.log(renderNft(plan));
