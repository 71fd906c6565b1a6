// Benchmarks of @isthmus/globalnet-ipam. Each figure has a baseline measured in the same run:
// - ingress allocation and restore: the raw @isthmus/ipam pool doing the same work (the cost of this layer);
// - the NAT plan: a naive per-pod SNAT rendering (one rule per pod), planned, rendered and loaded by nft too.
// BENCH_QUICK=1 runs small sizes.
import { performance } from 'node:perf_hooks';
import {
  createGlobalnet,
  type Globalnet,
  planGlobalnetNat,
  renderNft,
  restoreGlobalnet,
} from '@isthmus/globalnet-ipam';
import { createPool, parseAddr, restorePool } from '@isthmus/ipam';
import { Lab, missing } from '../../../testing/netns';
import { bestMs, printTable, type Row } from '../../ipam/bench/harness';

const QUICK = process.env.BENCH_QUICK === '1';
const INGRESS = QUICK ? 10_000 : 100_000;
const PODS = QUICK ? 2_000 : 20_000;
const NAMESPACES = QUICK ? 200 : 2_000;
const RUNS = QUICK ? 2 : 3;

// The ratio column reads the same way in every isthmus bench: above 1 is better than the baseline
// (baseline time / our time; baseline rules / our rules).
const ratio = (x: number, base: number) => `${(base / x).toPrecision(3)}x`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const rows: Row[] = [];

// ---------------------------------------------------------------------------------------------
// 100,000 ingress global IPs, then a restore from the snapshot

const GLOBAL = '242.0.0.0/14';
const targets = Array.from({ length: INGRESS }, (_, i) => ({
  kind: 'service' as const,
  namespace: `ns${i % 1000}`,
  name: `svc-${i}`,
}));
const owners = targets.map((t) => `svc/${t.namespace}/${t.name}`);

let gn: Globalnet | undefined;
const allocMs = bestMs(
  RUNS,
  () => {
    gn = createGlobalnet({ globalCidr: GLOBAL });
  },
  () => {
    for (const t of targets) gn!.allocateIngress(t);
  },
);
let pool = createPool({ name: 'globalnet', subnet: GLOBAL });
const poolAllocMs = bestMs(
  RUNS,
  () => {
    pool = createPool({ name: 'globalnet', subnet: GLOBAL });
  },
  () => {
    for (const o of owners) pool.allocate(o);
  },
);
const snap = JSON.parse(JSON.stringify(gn!.snapshot()));
const poolSnap = JSON.parse(JSON.stringify(pool.snapshot()));
let restored: Globalnet | undefined;
const restoreMs = bestMs(
  RUNS,
  () => {},
  () => {
    restored = restoreGlobalnet({ globalCidr: GLOBAL }, snap);
  },
);
const poolRestoreMs = bestMs(
  RUNS,
  () => {},
  () => {
    restorePool({ name: 'globalnet', subnet: GLOBAL }, poolSnap);
  },
);
if (restored!.stats().allocated !== INGRESS) throw new Error('restore lost allocations');
rows.push(
  {
    case: `allocate ${INGRESS.toLocaleString('en')} ingress global IPs`,
    value: ms(allocMs),
    baseline: `${ms(poolAllocMs)} raw pool`,
    ratio: ratio(allocMs, poolAllocMs),
  },
  {
    case: `restoreGlobalnet from ${INGRESS.toLocaleString('en')} allocations`,
    value: ms(restoreMs),
    baseline: `${ms(poolRestoreMs)} raw restorePool`,
    ratio: ratio(restoreMs, poolRestoreMs),
  },
);

// ---------------------------------------------------------------------------------------------
// The NAT plan: 20,000 pods in 2,000 namespaces, each namespace with its own egress scope

const nat = createGlobalnet({ globalCidr: '242.0.0.0/16' });
nat.allocateEgress({ kind: 'cluster' });
for (let n = 0; n < NAMESPACES; n++) nat.allocateEgress({ kind: 'namespace', namespace: `ns-${n}` });
const pods = Array.from({ length: PODS }, (_, i) => ({
  namespace: `ns-${i % NAMESPACES}`,
  name: `pod-${i}`,
  ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
}));
const input = {
  globalCidr: nat.globalCidr,
  localCidrs: ['10.0.0.0/16', '100.0.0.0/16'],
  remoteGlobalCidrs: ['242.1.0.0/16', '242.2.0.0/16'],
  egress: nat.egress(),
  ingress: [],
  pods,
};

/** The naive plan: for each pod, find its scope's block and write one SNAT rule. */
function naivePlan(): Array<[string, string]> {
  const blocks = new Map(nat.egress().map((e) => [e.owner, e.globalIps]));
  return pods.map((p) => {
    const ips = blocks.get(`egress/ns/${p.namespace}`) ?? blocks.get('egress/cluster')!;
    parseAddr(p.ips[0]!);
    return [p.ips[0]!, ips.length === 1 ? ips[0]! : `${ips[0]}-${ips[ips.length - 1]}`];
  });
}
function naiveRender(rules: Array<[string, string]>): string {
  // The same mark as ours, then one SNAT rule per pod.
  const lines = rules.map(([src, to]) => `\t\tip saddr ${src} snat to ${to}`);
  return `table ip isthmus-naive\ndelete table ip isthmus-naive\ntable ip isthmus-naive {\n\tset remote-globals {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 242.1.0.0/16, 242.2.0.0/16 }\n\t}\n\n\tchain egress {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip daddr @remote-globals meta mark set meta mark | 0x000c0000\n\t\tmeta mark & 0x000c0000 != 0x000c0000 return\n${lines.join('\n')}\n\t}\n}\n`;
}

let plan = planGlobalnetNat(input);
const planMs = bestMs(
  RUNS,
  () => {},
  () => {
    plan = planGlobalnetNat(input);
  },
);
let naive = naivePlan();
const naivePlanMs = bestMs(
  RUNS,
  () => {},
  () => {
    naive = naivePlan();
  },
);
let text = '';
const renderMs = bestMs(
  RUNS,
  () => {},
  () => {
    text = renderNft(plan);
  },
);
let naiveText = '';
const naiveRenderMs = bestMs(
  RUNS,
  () => {},
  () => {
    naiveText = naiveRender(naive);
  },
);
const countRules = (t: string) =>
  t.split('\n').filter((l) => /^\t\t(ip |dnat |snat |meta mark & )/.test(l)).length;
const rules = countRules(text);
const naiveRules = countRules(naiveText);
const label = `${PODS.toLocaleString('en')} pods / ${NAMESPACES.toLocaleString('en')} namespaces`;
rows.push(
  {
    case: `planGlobalnetNat, ${label}`,
    value: ms(planMs),
    baseline: `${ms(naivePlanMs)} naive per-pod`,
    ratio: ratio(planMs, naivePlanMs),
  },
  {
    case: 'renderNft',
    value: ms(renderMs),
    baseline: `${ms(naiveRenderMs)} naive per-pod`,
    ratio: ratio(renderMs, naiveRenderMs),
  },
  {
    case: 'nft rules (sets hold the pods; fewer is better)',
    value: `${rules} rules, ${plan.egress.namespaces.length} sets`,
    baseline: `${naiveRules} rules`,
    ratio: ratio(rules, naiveRules),
  },
);

// ---------------------------------------------------------------------------------------------
// Loading the script with nft -f in a namespace the bench creates

const gaps = missing(['netns', 'nft']);
if (gaps.length > 0) {
  rows.push({ case: 'nft -f load', value: `skipped: ${gaps.join('; ')}` });
} else {
  const lab = new Lab('gnbench');
  try {
    const ns = await lab.netns('nft');
    const load = async (script: string, runs = RUNS) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await ns.must('nft', ['-f', '-'], { input: script, timeoutMs: 900_000 });
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const ours = await load(text);
    // One run of the naive script: nft is slow over tens of thousands of rules.
    const base = await load(naiveText, 1);
    rows.push({
      case: 'nft -f load (table replaced each time)',
      value: ms(ours),
      baseline: `${ms(base)} naive per-pod`,
      ratio: ratio(ours, base),
    });
  } finally {
    await lab.cleanup();
  }
}

printTable(`@isthmus/globalnet-ipam${QUICK ? ' (BENCH_QUICK)' : ''}`, rows);
