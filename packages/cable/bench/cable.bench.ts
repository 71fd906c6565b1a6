// pnpm bench: @isthmus/cable planning and rendering speed, and tunnel throughput on a real kernel,
// each figure next to a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, missing, type Netns } from '../../../testing/netns';
import { bestMs, printTable, type Row } from '../../ipam/bench/harness';
import {
  type CableOptions,
  type CablePlan,
  type GatewayEndpoint,
  generateWireGuardKeyPair,
  planCable,
  renderIpsecConf,
  renderIpsecSecrets,
  renderMssClampNft,
  renderVxlanBridgeBatch,
  renderVxlanIpBatch,
  renderWireGuardIpBatch,
  renderWireGuardSetconf,
  type WireGuardPlan,
  writeSecretFile,
} from '../src/index';

const quick = process.env.BENCH_QUICK === '1';
const N = quick ? 50 : 200;

function endpoint(i: number, publicKey: string): GatewayEndpoint {
  const host = i + 1;
  return {
    clusterId: `cluster-${i}`,
    node: `gw-${i}`,
    privateIp: `198.18.${host >> 8}.${host & 255}`,
    privateSubnet: '198.18.0.0/16',
    publicIp: `192.0.2.${(i % 250) + 1}`,
    subnets: [`10.${i >> 8}.${i & 255}.0/24`, `100.${64 + (i >> 8)}.${i & 255}.0/24`],
    publicKey,
  };
}

function render(plan: CablePlan): number {
  let n = renderMssClampNft(plan.mssClamp).length;
  if (plan.driver === 'wireguard')
    n += renderWireGuardSetconf(plan).length + renderWireGuardIpBatch(plan).length;
  else if (plan.driver === 'vxlan')
    n += renderVxlanIpBatch(plan).length + renderVxlanBridgeBatch(plan).length;
  else n += renderIpsecConf(plan).length + renderIpsecSecrets(plan).length;
  return n;
}

function meshSpeed(): Row[] {
  const keys = Array.from({ length: N }, () => generateWireGuardKeyPair());
  const eps = keys.map((k, i) => endpoint(i, k.publicKey));
  const rows: Row[] = [];
  const drivers: [string, (i: number) => CableOptions][] = [
    ['wireguard', (i) => ({ driver: 'wireguard', privateKey: keys[i]!.privateKey })],
    ['vxlan', () => ({ driver: 'vxlan' })],
    ['libreswan', () => ({ driver: 'libreswan', psk: 'correct-horse-battery-staple' })],
  ];
  for (const [name, opts] of drivers) {
    let bytes = 0;
    // One plan per gateway with all N-1 peers (what a node agent does), rendered.
    const mesh = bestMs(
      3,
      () => {},
      () => {
        bytes = 0;
        for (let i = 0; i < N; i++)
          bytes += render(
            planCable(
              eps[i]!,
              eps.filter((_, j) => j !== i),
              opts(i),
            ),
          );
      },
    );
    // Baseline: one planCable call per ordered pair (one cable per call), each rendered on its own.
    let baseBytes = 0;
    const perPair = bestMs(
      1,
      () => {},
      () => {
        baseBytes = 0;
        for (let i = 0; i < N; i++) {
          for (let j = 0; j < N; j++) if (i !== j) baseBytes += render(planCable(eps[i]!, eps[j]!, opts(i)));
        }
      },
    );
    rows.push({
      case: `${name}: full mesh of ${N} clusters (${N * (N - 1)} cables), plan + render`,
      value: `${mesh.toFixed(0)} ms, ${((mesh * 1000) / (N * (N - 1))).toFixed(1)} µs/cable (${(bytes / 1e6).toFixed(1)} MB text)`,
      baseline: `${perPair.toFixed(0)} ms planning each pair alone`,
      ratio: `${(perPair / mesh).toFixed(2)}`,
    });
    if (baseBytes === 0) throw new Error('the baseline rendered nothing');
  }
  return rows;
}

async function iperf(client: Netns, server: Netns, dst: string, src: string): Promise<number> {
  const srv = await server.start('iperf3', ['-s', '-1', '-B', dst]);
  for (let i = 0; i < 100 && !srv.output().includes('listening'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const r = await client.run('iperf3', ['-c', dst, '-B', src, '-t', quick ? '2' : '5', '-J'], {
    timeoutMs: 60_000,
  });
  await srv.stop();
  if (r.code !== 0) throw new Error(`iperf3 to ${dst} failed: ${r.stdout.slice(-400)} ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
  return j.end.sum_received.bits_per_second;
}

/** The largest IPv4 packet (bytes) that crosses with DF set, found by ping; the next size must fail. */
async function measuredMtu(ns: Netns, dst: string, planned: number): Promise<string> {
  const ok = await ns.run('ping', ['-M', 'do', '-c', '1', '-W', '2', '-s', String(planned - 28), dst]);
  const over = await ns.run('ping', ['-M', 'do', '-c', '1', '-W', '2', '-s', String(planned - 27), dst]);
  const refused = /message too long/.test(over.stdout + over.stderr);
  return ok.code === 0 && over.code !== 0 && refused
    ? `${planned} passes, ${planned + 1} refused`
    : `MISMATCH (ok=${ok.code}, over=${over.code})`;
}

async function throughput(): Promise<Row[]> {
  const lab = new Lab('cabbench');
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-cable-bench-'));
  try {
    const a = await lab.netns('a');
    const b = await lab.netns('b');
    await lab.veth(a, 'eth0', b, 'eth0', { a: ['198.18.0.1/24'], b: ['198.18.0.2/24'] });
    for (const [ns, ips] of [
      [a, ['10.10.0.1/32', '10.11.0.1/32']],
      [b, ['10.20.0.1/32', '10.21.0.1/32']],
    ] as const) {
      for (const ip of ips) await ns.must('ip', ['addr', 'add', ip, 'dev', 'lo']);
    }
    // The two cables share the namespaces, so VXLAN takes the IANA port and WireGuard keeps 4500.
    const ep = (id: string, ip: string, subnet: string, publicKey?: string): GatewayEndpoint => ({
      clusterId: id,
      privateIp: ip,
      privateSubnet: '198.18.0.0/24',
      subnets: [subnet],
      ...(publicKey === undefined ? { port: 4789 } : { publicKey }),
    });
    // VXLAN cable
    const vxA = planCable(
      ep('east', '198.18.0.1', '10.11.0.0/24'),
      ep('west', '198.18.0.2', '10.21.0.0/24'),
      {
        driver: 'vxlan',
        sourceIp: '10.11.0.1',
      },
    );
    const vxB = planCable(
      ep('west', '198.18.0.2', '10.21.0.0/24'),
      ep('east', '198.18.0.1', '10.11.0.0/24'),
      {
        driver: 'vxlan',
        sourceIp: '10.21.0.1',
      },
    );
    for (const [ns, p] of [
      [a, vxA],
      [b, vxB],
    ] as const) {
      await ns.ipBatch(renderVxlanIpBatch(p));
      await ns.must('bridge', ['-batch', '-'], { input: renderVxlanBridgeBatch(p) });
    }
    // WireGuard cable (wireguard-go)
    const ka = generateWireGuardKeyPair();
    const kb = generateWireGuardKeyPair();
    const wgPlans: WireGuardPlan[] = [];
    for (const [ns, key, me, peer] of [
      [
        a,
        ka,
        ep('east', '198.18.0.1', '10.10.0.0/24', ka.publicKey),
        ep('west', '198.18.0.2', '10.20.0.0/24', kb.publicKey),
      ],
      [
        b,
        kb,
        ep('west', '198.18.0.2', '10.20.0.0/24', kb.publicKey),
        ep('east', '198.18.0.1', '10.10.0.0/24', ka.publicKey),
      ],
    ] as const) {
      const name = `wg${Math.random().toString(16).slice(2, 10)}`;
      await ns.start('wireguard-go', ['-f', name]);
      for (let i = 0; i < 100; i++) {
        if (spawnSync('test', ['-S', `/var/run/wireguard/${name}.sock`]).status === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const plan = planCable(me, peer, {
        driver: 'wireguard',
        privateKey: key.privateKey,
        interfaceName: name,
        sourceIp: me.subnets[0]!.replace('0/24', '1'),
      });
      const file = join(dir, `${name}.conf`);
      writeSecretFile(file, renderWireGuardSetconf(plan));
      await ns.must('wg', ['setconf', name, file]);
      await ns.ipBatch(renderWireGuardIpBatch(plan));
      wgPlans.push(plan);
    }
    for (const dst of ['10.20.0.1', '10.21.0.1']) {
      for (let i = 0; i < 20 && (await a.run('ping', ['-c', '1', '-W', '1', dst])).code !== 0; i++);
    }
    const veth = await iperf(a, b, '198.18.0.2', '198.18.0.1');
    const vx = await iperf(a, b, '10.21.0.1', '10.11.0.1');
    const wgBps = await iperf(a, b, '10.20.0.1', '10.10.0.1');
    const g = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
    return [
      {
        case: 'iperf3: plain veth underlay (the baseline)',
        value: g(veth),
        baseline: g(veth),
        ratio: '1.00',
      },
      {
        case: `iperf3: VXLAN cable (MTU ${vxA.mtu})`,
        value: g(vx),
        baseline: g(veth),
        ratio: (vx / veth).toFixed(2),
      },
      {
        case: `iperf3: WireGuard cable, wireguard-go (MTU ${wgPlans[0]!.mtu})`,
        value: g(wgBps),
        baseline: g(veth),
        ratio: (wgBps / veth).toFixed(2),
      },
      {
        case: 'MTU measured through VXLAN (ping -M do, IPv4 packet size)',
        value: await measuredMtu(a, '10.21.0.1', vxA.mtu),
      },
      {
        case: 'MTU measured through WireGuard (ping -M do, IPv4 packet size)',
        value: await measuredMtu(a, '10.20.0.1', wgPlans[0]!.mtu),
      },
    ];
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = meshSpeed();
printTable(`@isthmus/cable: plan + render a full mesh (${N} clusters)`, rows);
const gaps = missing(['root', 'netns', 'veth', 'vxlan', 'wireguard-go', 'wg', 'iperf3', 'ping']);
if (gaps.length > 0) {
  console.log(`\n[skip] iperf3 throughput: ${gaps.join('; ')}`);
} else {
  printTable(
    '@isthmus/cable: throughput through real cables (network namespaces, same run)',
    await throughput(),
  );
}
