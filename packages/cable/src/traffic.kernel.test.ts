// Real traffic through cables built from rendered plans, in two gateway namespaces joined by a veth
// underlay; then the MTU proof: the computed maximum passes with DF set, one byte more is refused.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns, type Started } from '../../../testing/netns';
import type { GatewayEndpoint } from './endpoint';
import { generateWireGuardKeyPair } from './keygen';
import { planCable } from './plan';
import { pingUntilUp, startWireGuardGo, uniqueWgName } from './test-support';
import { renderVxlanBridgeBatch, renderVxlanIpBatch } from './vxlan';
import { renderWireGuardIpBatch, renderWireGuardSetconf } from './wireguard';
import { writeSecretFile } from './write-secret';

const LINK_MTU = 1500;

/** Two gateways on 198.18.0.0/24; each owns the first address of its cluster subnet on lo. */
async function gateways(lab: Lab, tag: string, subnetA: string, subnetB: string) {
  const a = await lab.netns(`${tag}a`);
  const b = await lab.netns(`${tag}b`);
  await lab.veth(a, 'eth0', b, 'eth0', { a: ['198.18.0.1/24'], b: ['198.18.0.2/24'] });
  await a.must('ip', ['link', 'set', 'eth0', 'mtu', String(LINK_MTU)]);
  await b.must('ip', ['link', 'set', 'eth0', 'mtu', String(LINK_MTU)]);
  const host = (cidr: string) => cidr.replace(/0\/\d+$/, '1');
  await a.must('ip', ['addr', 'add', `${host(subnetA)}/32`, 'dev', 'lo']);
  await b.must('ip', ['addr', 'add', `${host(subnetB)}/32`, 'dev', 'lo']);
  const epA: GatewayEndpoint = {
    clusterId: 'east',
    node: 'gw-a',
    privateIp: '198.18.0.1',
    privateSubnet: '198.18.0.0/24',
    subnets: [subnetA],
  };
  const epB: GatewayEndpoint = {
    clusterId: 'west',
    node: 'gw-b',
    privateIp: '198.18.0.2',
    privateSubnet: '198.18.0.0/24',
    subnets: [subnetB],
  };
  return { a, b, epA, epB, ipA: host(subnetA), ipB: host(subnetB) };
}

/** ping -M do with an ICMP payload that makes an IPv4 packet of exactly `size` bytes. */
function pingDf(ns: Netns, dst: string, size: number) {
  return ns.run('ping', ['-M', 'do', '-c', '1', '-W', '2', '-s', String(size - 28), dst]);
}

/** IPv4 fragments the namespace has created so far (`Ip: FragCreates` in its /proc/net/snmp). */
async function fragCreates(ns: Netns): Promise<number> {
  const [head, values] = (await ns.must('cat', ['/proc/net/snmp']))
    .split('\n')
    .filter((l) => l.startsWith('Ip:'))
    .map((l) => l.trim().split(/\s+/));
  const i = head!.indexOf('FragCreates');
  expect(i).toBeGreaterThan(0);
  return Number(values![i]);
}

/**
 * MTU proof: the computed maximum crosses with DF and its outer packets are not fragmented on the
 * underlay (either way); one byte more is refused locally, never silently dropped; and with the device
 * MTU raised by one, that byte more does not cross unfragmented, so the computed figure is the maximum.
 */
async function proveMtu(ns: Netns, peer: Netns, dev: string, dst: string, mtu: number): Promise<void> {
  const frags = async () => (await fragCreates(ns)) + (await fragCreates(peer));
  const before = await frags();
  const fits = await pingDf(ns, dst, mtu);
  expect(fits.code, fits.stdout + fits.stderr).toBe(0);
  expect(fits.stdout).toContain(`${mtu - 20} bytes from ${dst}`);
  expect(await frags(), 'outer packets of the computed maximum were fragmented').toBe(before);
  const over = await pingDf(ns, dst, mtu + 1);
  expect(over.code).not.toBe(0);
  expect(over.stdout + over.stderr).toMatch(new RegExp(`message too long, mtu=${mtu}`));
  // Only the sender's count: the peer's device still has the computed MTU and fragments its reply.
  const sent = await fragCreates(ns);
  await ns.must('ip', ['link', 'set', 'dev', dev, 'mtu', String(mtu + 1)]);
  try {
    const raised = await pingDf(ns, dst, mtu + 1);
    const fragmented = (await fragCreates(ns)) > sent;
    expect(raised.code !== 0 || fragmented, 'one byte over the computed MTU crossed unfragmented').toBe(true);
  } finally {
    await ns.must('ip', ['link', 'set', 'dev', dev, 'mtu', String(mtu)]);
  }
}

const SERVER = `const net=require('net'),c=require('crypto');const h=c.createHash('sha256');let n=0;
const s=net.createServer(k=>{k.on('data',d=>{h.update(d);n+=d.length});k.on('end',()=>{console.log('received '+n+' '+h.digest('hex'));k.end();s.close()})});
s.listen(5201,process.argv[1],()=>console.log('listening'));`;
const CLIENT = `const net=require('net'),c=require('crypto');const b=c.randomBytes(4<<20);
const k=net.connect({host:process.argv[1],port:5201,localAddress:process.argv[2]},()=>k.end(b));k.resume();
k.on('close',()=>console.log('sent '+b.length+' '+c.createHash('sha256').update(b).digest('hex')));`;

/** A 4 MiB TCP transfer from a to b across the tunnel; the receiver's hash must match the sender's. */
async function tcpTransfer(a: Netns, b: Netns, src: string, dst: string): Promise<void> {
  const server = await b.start(process.execPath, ['-e', SERVER, dst]);
  for (let i = 0; i < 100 && !server.output().includes('listening'); i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(server.output()).toContain('listening');
  const client = await a.run(process.execPath, ['-e', CLIENT, dst, src], { timeoutMs: 30_000 });
  expect(client.code, client.stderr).toBe(0);
  const sent = /sent (\d+) ([0-9a-f]+)/.exec(client.stdout);
  for (let i = 0; i < 100 && !server.output().includes('received'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const got = /received (\d+) ([0-9a-f]+)/.exec(server.output());
  expect(sent?.[1]).toBe(String(4 << 20));
  expect(got?.slice(1)).toEqual(sent?.slice(1));
}

describeKernel(
  'real traffic through rendered cables',
  ['root', 'netns', 'veth', 'vxlan', 'wireguard-go', 'wg', 'ping'],
  () => {
    const lab = new Lab('cabtr');
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-cable-'));
    const wg: { name: string; proc: Started }[] = [];
    afterAll(async () => {
      try {
        await lab.cleanup();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    describe('WireGuard (wireguard-go)', () => {
      it('pings across, proves the 1440-byte MTU with DF, and completes a TCP transfer', async () => {
        const { a, b, epA, epB, ipA, ipB } = await gateways(lab, 'w', '10.10.0.0/24', '10.20.0.0/24');
        const ka = generateWireGuardKeyPair();
        const kb = generateWireGuardKeyPair();
        const sides = [
          {
            ns: a,
            local: { ...epA, publicKey: ka.publicKey },
            remote: { ...epB, publicKey: kb.publicKey },
            key: ka,
            src: ipA,
          },
          {
            ns: b,
            local: { ...epB, publicKey: kb.publicKey },
            remote: { ...epA, publicKey: ka.publicKey },
            key: kb,
            src: ipB,
          },
        ];
        const plans = [];
        for (const s of sides) {
          const name = uniqueWgName();
          wg.push({ name, proc: await startWireGuardGo(s.ns, name) });
          const plan = planCable(s.local, s.remote, {
            driver: 'wireguard',
            privateKey: s.key.privateKey,
            interfaceName: name,
            sourceIp: s.src,
            linkMtu: LINK_MTU,
          });
          const file = join(dir, `${name}.conf`);
          writeSecretFile(file, renderWireGuardSetconf(plan));
          await s.ns.must('wg', ['setconf', name, file]);
          await s.ns.ipBatch(renderWireGuardIpBatch(plan));
          plans.push(plan);
        }
        expect(plans[0]!.mtu).toBe(1440);
        expect(plans[0]!.peers[0]!.endpoint.use).toBe('private');
        await pingUntilUp(a, ipB);
        await proveMtu(a, b, plans[0]!.interfaceName, ipB, plans[0]!.mtu);
        await proveMtu(b, a, plans[1]!.interfaceName, ipA, plans[1]!.mtu);
        await tcpTransfer(a, b, ipA, ipB);
      });
    });

    describe('VXLAN', () => {
      it('pings across, proves the 1450-byte MTU with DF, and completes a TCP transfer', async () => {
        const { a, b, epA, epB, ipA, ipB } = await gateways(lab, 'v', '10.11.0.0/24', '10.21.0.0/24');
        const pa = planCable(epA, epB, {
          driver: 'vxlan',
          sourceIp: ipA,
          interfaceName: 'vxc',
          linkMtu: LINK_MTU,
        });
        const pb = planCable(epB, epA, {
          driver: 'vxlan',
          sourceIp: ipB,
          interfaceName: 'vxc',
          linkMtu: LINK_MTU,
        });
        for (const [ns, plan] of [
          [a, pa],
          [b, pb],
        ] as const) {
          await ns.ipBatch(renderVxlanIpBatch(plan));
          await ns.must('bridge', ['-batch', '-'], { input: renderVxlanBridgeBatch(plan) });
        }
        expect(pa.mtu).toBe(1450);
        await pingUntilUp(a, ipB);
        await proveMtu(a, b, pa.interfaceName, ipB, pa.mtu);
        await proveMtu(b, a, pb.interfaceName, ipA, pb.mtu);
        await tcpTransfer(a, b, ipA, ipB);
      });
    });

    it('stopping wireguard-go (by pid) removes its control sockets', async () => {
      for (const { name, proc } of wg) {
        await proc.stop();
        for (let i = 0; i < 40 && existsSync(`/var/run/wireguard/${name}.sock`); i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(existsSync(`/var/run/wireguard/${name}.sock`)).toBe(false);
      }
    });
  },
);
