// Helpers shared by the tests of this package (not part of the public API, not bundled).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Netns } from '../../../testing/netns';
import { RoutePlannerError } from './errors';
import { parseIpJson } from './parse';
import type { Plan } from './plan';
import { type BatchStep, renderIptables } from './render';
import type { ClusterSpec, NodeSpec, Topology } from './topology';

/** Run fn, assert it threw a RoutePlannerError (by marker and by class), and return it. */
export function thrown(fn: () => unknown): RoutePlannerError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a RoutePlannerError to be thrown').toBeDefined();
  expect(RoutePlannerError.isInstance(caught), `not a RoutePlannerError: ${String(caught)}`).toBe(true);
  expect(caught).toBeInstanceOf(RoutePlannerError);
  return caught as RoutePlannerError;
}

/** Run rendered batch steps inside a namespace, in order. */
export async function applySteps(ns: Netns, steps: readonly BatchStep[]): Promise<void> {
  for (const s of steps) await ns.must(s.tool, s.args, { input: s.input });
}

/** Apply the mangle rules of a plan with iptables-restore --noflush. */
export async function applyMangle(ns: Netns, plan: Plan): Promise<void> {
  const t = renderIptables(plan);
  if (t.ipv4 !== '') await ns.must('iptables-restore', ['--noflush'], { input: t.ipv4 });
  if (t.ipv6 !== '') await ns.must('ip6tables-restore', ['--noflush'], { input: t.ipv6 });
}

/** `peerLinks` for veths into several namespaces: each one's links by the netnsid `ns` knows it by. */
async function peerLinksByNsid(ns: Netns, peers: readonly Netns[]): Promise<Record<string, unknown>> {
  const ids: Array<{ nsid: number; name?: string }> = JSON.parse(
    (await ns.must('ip', ['-json', 'netns', 'list-id'])) || '[]',
  );
  const out: Record<string, unknown> = {};
  for (const p of peers) {
    const id = ids.find((x) => x.name === p.name);
    if (id !== undefined) out[id.nsid] = JSON.parse(await p.must('ip', ['-json', 'link', 'show']));
  }
  return out;
}

/** Read everything parseIpJson understands out of a namespace. */
export async function readKernel(
  ns: Netns,
  opts: { peer?: Netns; peers?: readonly Netns[]; mangle?: boolean } = {},
): Promise<Plan> {
  const json = async (tool: string, args: string[]) => {
    const out = await ns.must(tool, args);
    return out.trim() === '' ? [] : JSON.parse(out);
  };
  return parseIpJson({
    routes: await json('ip', ['-json', 'route', 'show', 'table', 'all']),
    routes6: await json('ip', ['-6', '-json', 'route', 'show', 'table', 'all']),
    rules: await json('ip', ['-json', 'rule', 'show']),
    rules6: await json('ip', ['-6', '-json', 'rule', 'show']),
    neigh: await json('ip', ['-json', 'neigh', 'show']),
    fdb: await json('bridge', ['-json', 'fdb', 'show']),
    links: await json('ip', ['-json', '-details', 'link', 'show']),
    addrs: await json('ip', ['-json', 'addr', 'show']),
    ...(opts.peer && { peerLinks: JSON.parse(await opts.peer.must('ip', ['-json', 'link', 'show'])) }),
    ...(opts.peers && { peerLinks: await peerLinksByNsid(ns, opts.peers) }),
    ...(opts.mangle && {
      iptables: await ns.must('iptables-save', ['-t', 'mangle']),
      ip6tables: await ns.must('ip6tables-save', ['-t', 'mangle']),
    }),
  });
}

type J = Record<string, unknown>;

/**
 * A model of the kernel for rendered batch lines: runs `ip -batch` / `bridge -batch` input into objects
 * shaped like `ip -json` output, so parse(render(plan)) can be checked without root.
 */
export class ModelKernel {
  routes: J[] = [];
  rules4: J[] = [
    { priority: 0, src: 'all', table: 'local' },
    { priority: 32766, src: 'all', table: 'main' },
    { priority: 32767, src: 'all', table: 'default' },
  ];
  rules6: J[] = [
    { priority: 0, src: 'all', table: 'local' },
    { priority: 32766, src: 'all', table: 'main' },
  ];
  neigh: J[] = [];
  fdb: J[] = [];
  links: J[] = [];
  peerLinks: J[] = [];
  addrs = new Map<string, J[]>();

  run(step: BatchStep): void {
    for (const line of step.input.split('\n').filter(Boolean))
      this.line(line, step.args.includes('-6') ? 6 : 4);
  }

  private line(line: string, family: 4 | 6): void {
    const w = line.split(' ');
    const opt = (k: string) => {
      const i = w.indexOf(k);
      return i < 0 ? undefined : w[i + 1];
    };
    const tableName = (t: string) => (t === '254' ? undefined : t === '255' ? 'local' : t);
    if (w[0] === 'route' && (w[1] === 'add' || w[1] === 'replace')) {
      const dst = w[2]!;
      const v6 = dst.includes(':') || family === 6;
      const host = dst.endsWith(v6 ? '/128' : '/32');
      const table = tableName(opt('table')!);
      const metric = opt('metric') === undefined ? (v6 ? 1024 : undefined) : Number(opt('metric'));
      const r: J = {
        dst: host ? dst.slice(0, dst.indexOf('/')) : dst,
        ...(opt('via') && { gateway: opt('via') }),
        ...(opt('dev') && { dev: opt('dev') }),
        ...(table !== undefined && { table }),
        ...(!v6 && { scope: opt('scope') ?? (opt('via') ? undefined : 'link') }),
        ...(opt('src') && { prefsrc: opt('src') }),
        ...(metric !== undefined && { metric }),
        flags: w.includes('onlink') ? ['onlink'] : [],
        ...(v6 && { pref: 'medium' }),
      };
      if (r.scope === undefined) delete r.scope;
      const same = (x: J) =>
        x.dst === r.dst && x.table === r.table && x.metric === r.metric && (x.pref !== undefined) === v6;
      if (w[1] === 'add' && this.routes.some(same))
        throw new Error(`RTNETLINK answers: File exists: ${line}`);
      this.routes = this.routes.filter((x) => !same(x));
      this.routes.push(r);
    } else if (w[0] === 'rule' && w[1] === 'add') {
      const from = opt('from')!;
      const [src, srclen] = from === 'all' ? ['all', undefined] : from.split('/');
      const full = family === 4 ? '32' : '128';
      const to = opt('to');
      const mark = opt('fwmark');
      const r: J = {
        priority: Number(opt('pref')),
        src,
        ...(srclen !== undefined && srclen !== full && { srclen: Number(srclen) }),
        ...(to !== undefined && { dst: to.split('/')[0], dstlen: Number(to.split('/')[1]) }),
        ...(mark !== undefined && { fwmark: mark.split('/')[0] }),
        ...(mark?.includes('/') && { fwmask: mark.split('/')[1] }),
        table: opt('lookup'),
      };
      (family === 4 ? this.rules4 : this.rules6).push(r);
    } else if (w[0] === 'neigh') {
      this.neigh = this.neigh.filter((n) => !(n.dst === w[2] && n.dev === opt('dev')));
      this.neigh.push({
        dst: w[2],
        dev: opt('dev'),
        lladdr: opt('lladdr'),
        state: [opt('nud')!.toUpperCase()],
      });
    } else if (w[0] === 'fdb') {
      this.fdb.push({ mac: w[2], ifname: opt('dev'), dst: opt('dst'), flags: ['self'], state: 'permanent' });
    } else if (w[0] === 'addr' && w[1] === 'add') {
      const [local, len] = w[2]!.split('/');
      const list = this.addrs.get(opt('dev')!) ?? [];
      list.push({
        family: local!.includes(':') ? 'inet6' : 'inet',
        local,
        prefixlen: Number(len),
        scope: 'global',
      });
      this.addrs.set(opt('dev')!, list);
    } else if (w[0] === 'link' && w[1] === 'add') {
      const kind = opt('type');
      if (kind === 'veth') {
        const at = w.indexOf('peer');
        this.peerLinks.push({ ifindex: this.peerLinks.length + 100, ifname: w[at + 2], address: w[at + 4] });
      }
      this.links.push({
        ...(kind === 'veth' && { link_index: this.peerLinks.length + 99, link_netnsid: 0 }),
        ifname: w[2],
        address: opt('address'),
        mtu: Number(opt('mtu')),
        flags: ['UP'],
        linkinfo:
          kind === 'vxlan'
            ? {
                info_kind: 'vxlan',
                info_data: {
                  id: Number(opt('id')),
                  local: opt('local'),
                  ...(opt('dev') && { link: opt('dev') }),
                  port: Number(opt('dstport')),
                  learning: w.includes('learning'),
                },
              }
            : { info_kind: 'veth' },
      });
    } else if (w[0] === 'link' && w[1] === 'set') {
      let l = this.links.find((x) => x.ifname === w[3]);
      if (!l) {
        l = { ifname: w[3], flags: [] };
        this.links.push(l);
      }
      if (opt('address')) l.address = opt('address');
      if (w.at(-1) === 'up') l.flags = ['UP'];
      if (w.at(-1) === 'down') l.flags = [];
    } else {
      throw new Error(`model kernel does not know: ${line}`);
    }
  }

  json() {
    return {
      routes: this.routes,
      rules: this.rules4,
      rules6: this.rules6,
      neigh: this.neigh,
      fdb: this.fdb,
      links: this.links,
      peerLinks: this.peerLinks,
      addrs: [...this.addrs].map(([ifname, addr_info]) => ({ ifname, addr_info })),
    };
  }
}

/** Cable next hops toward the clusters `targets` names by index (others than `own`), or nothing. */
export function nextHopsTo(targets: readonly number[], own: number, count: number, salt: number) {
  const hops: Record<string, string> = {};
  for (const k of targets)
    if (k !== own && k < count) hops[`c${k}`] = `192.0.2.${((own * 16 + k * 4 + salt) % 250) + 1}`;
  return Object.keys(hops).length === 0 ? {} : { cableNextHops: hops };
}

/**
 * A topology of 2-4 clusters of 0-6 nodes, P2P or gateway mode, optionally with two overlapping clusters; the
 * first two nodes of a cluster may carry cable next hops toward some other clusters.
 */
export const arbTopology: fc.Arbitrary<Topology> = fc
  .record({
    clusters: fc.array(
      fc.record({
        mode: fc.constantFrom('p2p' as const, 'gateway' as const),
        nodes: fc.integer({ min: 0, max: 6 }),
        gateway: fc.integer({ min: -1, max: 5 }),
        global: fc.boolean(),
        hops: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
      }),
      { minLength: 2, maxLength: 4 },
    ),
    overlap: fc.boolean(),
  })
  .map(({ clusters, overlap }) => {
    const cs: ClusterSpec[] = [];
    const ns: NodeSpec[] = [];
    clusters.forEach((c, i) => {
      // With overlap, the last cluster reuses cluster 0's pod CIDR (the globalnet case).
      const podNet = overlap && i === clusters.length - 1 ? 0 : i;
      const global = c.mode === 'gateway' && c.global;
      cs.push({
        name: `c${i}`,
        mode: c.mode,
        podCIDRs: [`10.${podNet}.0.0/16`],
        serviceCIDRs: [`10.${100 + i}.0.0/16`],
        ...(global && { globalCIDRs: [`169.254.${i * 16}.0/20`] }),
      });
      for (let j = 0; j < c.nodes; j++) {
        ns.push({
          name: `c${i}-n${j}`,
          cluster: `c${i}`,
          underlayIP: `198.18.${i}.${j + 1}`,
          podCIDRs: [`10.${podNet}.${j + (podNet === i ? 0 : 50)}.0/24`],
          ...(j === c.gateway && { gateway: true }),
          ...(j < 2 && nextHopsTo(c.hops, i, clusters.length, j)),
        });
      }
    });
    return { clusters: cs, nodes: ns };
  });
