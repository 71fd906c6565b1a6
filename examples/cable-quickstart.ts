import {
  CableError,
  generateWireGuardKeyPair,
  planCable,
  renderWireGuardIpBatch,
  tcpMss,
  tunnelMtu,
} from '@isthmus/cable';

const east = {
  clusterId: 'east',
  privateIp: '198.18.0.1',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.10.0.0/16'],
};
const west = {
  clusterId: 'west',
  privateIp: '198.19.0.1',
  privateSubnet: '198.19.0.0/24',
  publicIp: '192.0.2.20',
  subnets: ['10.20.0.0/16', '10.120.0.0/16'],
  publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
};

// Keys are made outside the pure planner; the plan holds the private key in a redacting Secret.
const { privateKey } = generateWireGuardKeyPair();
const plan = planCable(east, west, { driver: 'wireguard', privateKey, sourceIp: '10.10.0.1' });

console.log(plan.mtu, plan.mssClamp[0]?.mss, plan.peers[0]?.endpoint.reason);
console.log(renderWireGuardIpBatch(plan).trim());
console.log(JSON.stringify({ privateKey: plan.privateKey }), String(plan.privateKey));
console.log(tunnelMtu('libreswan', { natT: true }), tcpMss(1438, 4));

try {
  planCable(east, { ...west, subnets: ['10.10.128.0/17'] }, { driver: 'vxlan' });
} catch (e) {
  if (CableError.isInstance(e)) console.log(e.code); // SUBNET_OVERLAP
}
