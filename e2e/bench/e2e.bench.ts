// Pod to remote pod across the two clusters (through global IPs, NAT and the cable) for each driver and
// mode, next to two namespaces joined by a plain veth measured in the same run: iperf3 throughput and
// ping round-trip time. BENCH_QUICK=1 shortens the iperf3 runs.
import { printTable, type Row } from '../../packages/ipam/bench/harness';
import { Lab, missing, type Netns } from '../../testing/netns';
import { buildScenario, generateScenarioKeys, teardown, uniqueWgNames } from '../kernel';
import { planScenario, type ScenarioDriver, type ScenarioMode } from '../scenario';

const quick = process.env.BENCH_QUICK === '1';
const SECONDS = quick ? 2 : 5;
const PINGS = 50;

async function iperf(client: Netns, server: Netns, dst: string): Promise<number> {
  const srv = await server.start('iperf3', ['-s', '-1']);
  for (let i = 0; i < 100 && !srv.output().includes('listening'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const r = await client.run('iperf3', ['-c', dst, '-t', String(SECONDS), '-J'], { timeoutMs: 120_000 });
  await srv.stop();
  if (r.code !== 0) throw new Error(`iperf3 to ${dst} failed: ${r.stdout.slice(-400)} ${r.stderr}`);
  return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
    .bits_per_second;
}

/** Average round-trip time in ms over PINGS pings (after one warm-up ping). */
async function rtt(ns: Netns, dst: string): Promise<number> {
  await ns.run('ping', ['-n', '-c', '1', '-W', '2', dst]);
  const r = await ns.run('ping', ['-n', '-q', '-c', String(PINGS), '-i', '0.02', '-W', '2', dst], {
    timeoutMs: 60_000,
  });
  const m = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  if (r.code !== 0 || m === null) throw new Error(`ping ${dst} failed: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

interface Figures {
  bps: number;
  rttMs: number;
}

async function baseline(): Promise<Figures> {
  const lab = new Lab('benchvth');
  try {
    const a = await lab.netns('a');
    const b = await lab.netns('b');
    await lab.veth(a, 'eth0', b, 'eth0', { a: ['198.18.0.1/24'], b: ['198.18.0.2/24'] });
    return { bps: await iperf(a, b, '198.18.0.2'), rttMs: await rtt(a, '198.18.0.2') };
  } finally {
    await lab.cleanup();
  }
}

async function scenario(driver: ScenarioDriver, mode: ScenarioMode): Promise<Figures & { mtu: number }> {
  const lab = new Lab('benche2e');
  const s = planScenario({
    driver,
    mode,
    ...(driver === 'wireguard' && { keys: generateScenarioKeys(), wgNames: uniqueWgNames() }),
  });
  let built: Awaited<ReturnType<typeof buildScenario>> | undefined;
  try {
    built = await buildScenario(lab, s);
    const from = built.ns[s.mtu.from]!;
    const to = s.pods.find((p) => p.globalIp === s.mtu.to)!;
    return {
      bps: await iperf(from, built.ns[to.name]!, s.mtu.to),
      rttMs: await rtt(from, s.mtu.to),
      mtu: s.mtu.largestDfPing,
    };
  } finally {
    if (built !== undefined) await teardown(built);
    else await lab.cleanup();
  }
}

const gaps = missing(['root', 'netns', 'veth', 'vxlan', 'nft', 'wireguard-go', 'wg', 'iperf3', 'ping']);
if (gaps.length > 0) {
  console.log(`\n[skip] two-cluster e2e throughput: ${gaps.join('; ')}`);
} else {
  // The machine is shared: measure the baseline before and after, and compare with the better figures.
  const first = await baseline();
  const results: [ScenarioDriver, ScenarioMode, Figures & { mtu: number }][] = [];
  for (const [driver, mode] of [
    ['wireguard', 'gateway'],
    ['vxlan', 'gateway'],
    ['vxlan', 'p2p'],
  ] as const)
    results.push([driver, mode, await scenario(driver, mode)]);
  const last = await baseline();
  const base = { bps: Math.max(first.bps, last.bps), rttMs: Math.min(first.rttMs, last.rttMs) };
  const g = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  const rows: Row[] = [
    {
      case: 'iperf3: two namespaces, plain veth (the baseline; best of before and after)',
      value: g(base.bps),
      baseline: g(base.bps),
      ratio: '1.00',
    },
    {
      case: 'ping RTT: plain veth (the baseline; best of before and after)',
      value: ms(base.rttMs),
      baseline: ms(base.rttMs),
      ratio: '1.00',
    },
  ];
  for (const [driver, mode, f] of results) {
    const what = mode === 'p2p' ? 'P2P worker to worker (vx-bridge)' : `gateway mode, ${driver} cable`;
    rows.push(
      {
        case: `iperf3: west pod -> east pod global IP, ${what}, MTU ${f.mtu}`,
        value: g(f.bps),
        baseline: g(base.bps),
        ratio: (f.bps / base.bps).toFixed(2),
      },
      {
        case: `ping RTT: west pod -> east pod global IP, ${what}`,
        value: ms(f.rttMs),
        baseline: ms(base.rttMs),
        ratio: (base.rttMs / f.rttMs).toFixed(2),
      },
    );
  }
  printTable('two overlapping clusters end to end (network namespaces, same run)', rows);
}
