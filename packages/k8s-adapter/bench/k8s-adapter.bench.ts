// pnpm bench k8s-adapter: the controller against a real kube-apiserver (testing/kube.ts), each figure
// next to a baseline measured on the same server in the same run (ratio above 1: the controller is better).
//   1. N newly exported services -> annotated: throughput and creation->annotation latency (watch times).
//      Baseline: no controller; a client does the same API work inline per service (create the service,
//      create its ServiceExport, PATCH the annotation), at the same concurrency. Its throughput is what the
//      server gives for that work; its creation->annotation time (client clock, from the Service created
//      to the PATCH answered) is two sequential round trips (export, patch): the floor the controller
//      approaches (it also waits for two watch events).
//   2. Cold start with M annotated pods: startController() -> ready to allocate.
//      Baseline: one list of the same pods at the informer's page size (the least any controller reads).

import { type Kube, kubeMissing, startKube } from '../../../testing/kube';
import { printTable, type Row } from '../../ipam/bench/harness';
import { startController } from '../src/controller';
import { request } from '../src/kube/http';
import { createInformer } from '../src/kube/informer';
import { mergePatch } from '../src/kube/write';
import { createLogger } from '../src/log';
import { GLOBAL_IP_ANNOTATION } from '../src/resources';
import { create, inParallel, installCrds, until } from '../src/test-support/kube-setup';

const quick = process.env.BENCH_QUICK === '1';
const SERVICES = quick ? 300 : 2_000;
const PODS = quick ? 1_000 : 10_000;
const CONCURRENCY = 16;
const quiet = createLogger({ level: 'error' });

type Meta = { metadata: { name: string; annotations?: Record<string, string> } };

const svc = (name: string, headless = false) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: headless
    ? { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] }
    : { ports: [{ port: 80 }] },
});
const exp = (name: string) => ({
  apiVersion: 'multicluster.x-k8s.io/v1alpha1',
  kind: 'ServiceExport',
  metadata: { name },
});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const rate = (x: number) => `${x.toFixed(0)} /s`;

async function exportBench(kube: Kube, rows: Row[]): Promise<void> {
  const ns = await kube.createTestNamespace('bsvc');
  const controller = await startController({
    kubeConfig: kube.kubeConfig,
    config: { clusterID: 'bench', globalCidr: '242.0.0.0/16' },
    leaseNamespace: ns,
    logger: quiet,
  });
  await until('controller ready', () => controller.isLeader && controller.ready, 60_000, 20);
  const created = new Map<string, number>();
  const annotated = new Map<string, number>();
  const watch = createInformer<Meta>({
    kubeConfig: kube.kubeConfig,
    path: `/api/v1/namespaces/${ns}/services`,
  });
  const seen = (o: Meta) => {
    const t = performance.now();
    if (!created.has(o.metadata.name)) created.set(o.metadata.name, t);
    if (o.metadata.annotations?.[GLOBAL_IP_ANNOTATION] && !annotated.has(o.metadata.name))
      annotated.set(o.metadata.name, t);
  };
  watch.on('add', seen);
  watch.on('update', seen);
  await watch.start();
  const jobs: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < SERVICES; i++) {
    jobs.push(async () => {
      await create(kube, `/api/v1/namespaces/${ns}/services`, svc(`s-${i}`));
      await create(
        kube,
        `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`,
        exp(`s-${i}`),
      );
    });
  }
  await inParallel(CONCURRENCY, jobs);
  await until(`${SERVICES} annotated`, () => annotated.size === SERVICES, 600_000, 50);
  watch.stop();
  await controller.stop();
  const lat = [...annotated].map(([n, t]) => t - (created.get(n) ?? t)).sort((a, b) => a - b);
  const first = Math.min(...created.values());
  const last = Math.max(...annotated.values());
  const ours = SERVICES / ((last - first) / 1000);

  // Baseline: the same outcome without a controller: create, export and annotate inline, same concurrency.
  const ns2 = await kube.createTestNamespace('bbase');
  const baseLat: number[] = [];
  const base: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < SERVICES; i++) {
    base.push(async () => {
      await create(kube, `/api/v1/namespaces/${ns2}/services`, svc(`s-${i}`));
      // From the Service's creation on, as the controller's figure (which starts at the Service's watch event).
      const t0 = performance.now();
      await create(
        kube,
        `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns2}/serviceexports`,
        exp(`s-${i}`),
      );
      await mergePatch(kube.kubeConfig, `/api/v1/namespaces/${ns2}/services/s-${i}`, {
        metadata: { annotations: { [GLOBAL_IP_ANNOTATION]: `242.1.${i >> 8}.${i & 255}` } },
      });
      baseLat.push(performance.now() - t0);
    });
  }
  const b0 = performance.now();
  await inParallel(CONCURRENCY, base);
  const baseRate = SERVICES / ((performance.now() - b0) / 1000);
  baseLat.sort((a, b) => a - b);
  rows.push(
    {
      case: `${SERVICES.toLocaleString('en')} exported services annotated`,
      value: rate(ours),
      baseline: `inline client ${rate(baseRate)}`,
      ratio: `${(ours / baseRate).toFixed(2)}x`,
    },
    {
      case: 'creation -> annotation p50',
      value: ms(pct(lat, 50)),
      baseline: `inline client p50 ${ms(pct(baseLat, 50))}`,
      ratio: `${(pct(baseLat, 50) / pct(lat, 50)).toFixed(2)}x`,
    },
    {
      case: 'creation -> annotation p99',
      value: ms(pct(lat, 99)),
      baseline: `inline client p99 ${ms(pct(baseLat, 99))}`,
      ratio: `${(pct(baseLat, 99) / pct(lat, 99)).toFixed(2)}x`,
    },
  );
}

async function coldStartBench(kube: Kube, rows: Row[]): Promise<void> {
  const ns = await kube.createTestNamespace('bpod');
  const groups = 20;
  const jobs: (() => Promise<unknown>)[] = [];
  for (let g = 0; g < groups; g++) {
    jobs.push(() => create(kube, `/api/v1/namespaces/${ns}/services`, svc(`h-${g}`, true)));
    jobs.push(() =>
      create(kube, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns}/serviceexports`, exp(`h-${g}`)),
    );
  }
  for (let i = 0; i < PODS; i++) {
    const ip = `242.0.${100 + (i >> 8)}.${i & 255}`;
    jobs.push(() =>
      create(kube, `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `p-${i}`,
          labels: { app: `h-${i % groups}` },
          annotations: { [GLOBAL_IP_ANNOTATION]: ip },
        },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      }),
    );
  }
  await inParallel(32, jobs);

  // Baseline: the pods listed once, as the controller's informer pages them (500 a page).
  const l0 = performance.now();
  let cont: string | undefined;
  let n = 0;
  do {
    const page: { items: unknown[]; metadata: { continue?: string } } = await request(
      kube.kubeConfig,
      '/api/v1/pods',
      {
        query: { limit: 500, continue: cont },
      },
    );
    n += page.items.length;
    cont = page.metadata.continue || undefined;
  } while (cont);
  const listMs = performance.now() - l0;

  // Where the time goes: the election, the informers' lists, recover() (the log lines carry the times).
  const marks = new Map<string, number>();
  let recoverMs = 0;
  const logger = createLogger({
    level: 'info',
    sink: (line) => {
      const l = JSON.parse(line) as { msg?: string; ms?: number };
      if (l.msg && !marks.has(l.msg)) marks.set(l.msg, performance.now());
      if (l.msg === 'recovered') recoverMs = l.ms ?? 0;
    },
  });
  const t0 = performance.now();
  const controller = await startController({
    kubeConfig: kube.kubeConfig,
    config: { clusterID: 'bench', globalCidr: '242.0.0.0/16' },
    leaseNamespace: ns,
    logger,
  });
  await until('ready', () => controller.isLeader && controller.ready, 600_000, 5);
  const readyMs = performance.now() - t0;
  const held = controller.reconciler?.stats().globalIps ?? 0;
  const led = (marks.get('started leading') ?? t0) - t0;
  const recovered = (marks.get('recovered') ?? t0) - t0;
  console.log(
    `cold start: elected ${ms(led)}, lists ${ms(recovered - recoverMs - led)}, recover ${ms(recoverMs)}, ready ${ms(readyMs)}`,
  );
  await controller.stop();
  if (held < PODS) throw new Error(`recovered ${held} global IPs, expected at least ${PODS}`);
  rows.push({
    case: `cold start, ${PODS.toLocaleString('en')} annotated pods -> ready`,
    value: ms(readyMs),
    baseline: `one paged list of ${n.toLocaleString('en')} pods ${ms(listMs)}`,
    ratio: `${(listMs / readyMs).toFixed(2)}x`,
  });
}

async function main(): Promise<void> {
  const why = kubeMissing();
  if (why !== null) {
    console.log(`k8s-adapter bench skipped: ${why}`);
    return;
  }
  const kube = await startKube({ tag: 'bench' });
  try {
    await installCrds(kube);
    const rows: Row[] = [];
    await exportBench(kube, rows);
    await coldStartBench(kube, rows);
    printTable(
      `@isthmus/k8s-adapter against kube-apiserver ${kube.external ? '(ISTHMUS_TEST_KUBECONFIG)' : '1.20.2 + etcd on this machine'}${quick ? ' (BENCH_QUICK)' : ''}`,
      rows,
    );
  } finally {
    await kube.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
