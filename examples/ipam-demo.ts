// pnpm demo: a Spiderpool-style pool handing out pod IPs, an egress block and a StatefulSet's fixed IP,
// then what is allocated and what is free, a snapshot/restore, and the typed error a full pool gives.
import {
  type Addr,
  checkPoolOverlap,
  createPool,
  IpamError,
  type Pool,
  restorePool,
  selectPoolsOrThrow,
} from '@isthmus/ipam';

const json = process.argv.includes('--json');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function describe(pool: Pool): string {
  const s = pool.stats();
  const allocs = pool.allocations().map(([owner, addrs]) => [owner, summarise(addrs)]);
  return [
    `pool ${pool.name}: subnet ${pool.subnet}, gateway ${pool.gateway ?? '-'}; ${s.allocated} of ${s.total} allocated, ${s.free} free`,
    '',
    table(['owner', 'addresses'], allocs),
    '',
    `free ranges: ${pool.freeRanges().toString() || '(none)'}`,
  ].join('\n');
}

function summarise(addrs: readonly Addr[]): string {
  return addrs.length <= 2 ? addrs.join(', ') : `${addrs[0]} .. ${addrs[addrs.length - 1]} (${addrs.length})`;
}

const podPool = createPool({
  name: 'default-v4',
  subnet: '172.110.0.0/16',
  ips: ['172.110.1.1-172.110.1.40'],
  excludeIPs: ['172.110.1.10'],
  gateway: '172.110.1.1',
  reservedIPs: ['172.110.1.20'],
  routes: [{ dst: '10.96.0.0/12', gw: '172.110.1.1' }],
  default: true,
});

// Pod IPs by pod UID; asking twice returns the same address.
const pods = ['pod/default/web-7d9f-abcde', 'pod/default/web-7d9f-fghij', 'pod/shop/cart-0'];
for (const p of pods) podPool.allocate(p);
podPool.allocate(pods[0]!);
// An egress block of 8 contiguous addresses (globalnet-style), and a StatefulSet's fixed IP.
podPool.allocateBlock('egress/namespace/shop', 8);
podPool.reserve('pod/db/postgres-0', '172.110.1.30');
// A pod goes away: its address returns to the pool.
podPool.release(pods[1]!);

const v6Pool = createPool({ name: 'default-v6', subnet: 'fd00:172:110::/64', gateway: 'fd00:172:110::1' });
for (const p of pods) v6Pool.allocate(p);

// A controller restarts: the pool comes back from the snapshot it stored.
const snapshot = JSON.parse(JSON.stringify(podPool.snapshot()));
const restored = restorePool(podPool.spec, snapshot);
const nextOriginal = podPool.allocate('pod/default/web-7d9f-klmno');
const nextRestored = restored.allocate('pod/default/web-7d9f-klmno');

// Which pool would a new pod on node-a get?
const selection = selectPoolsOrThrow([podPool, v6Pool], {
  nic: 'eth0',
  family: 4,
  pod: { namespace: 'default', labels: { app: 'web' } },
  node: { name: 'node-a' },
});

// Exhaustion is a typed error with a stable code.
const tiny = createPool({ name: 'tiny', subnet: '192.0.2.0/30' });
let exhausted = '';
try {
  tiny.allocate('a');
  tiny.allocate('b');
  tiny.allocate('c');
} catch (e) {
  if (IpamError.isInstance(e)) exhausted = `${e.code}: ${e.message}`;
}

const overlaps = checkPoolOverlap([
  podPool.spec,
  { name: 'underlay-a', subnet: '172.110.0.0/16', ips: ['172.110.1.35-172.110.1.60'] },
]);

if (json) {
  console.log(
    JSON.stringify(
      {
        pools: [podPool, v6Pool].map((p) => ({
          name: p.name,
          stats: { ...p.stats(), total: String(p.stats().total), free: String(p.stats().free) },
          allocations: p.snapshot().allocations,
          free: p.freeRanges().toJSON(),
        })),
        restoreAgrees: nextOriginal.equals(nextRestored),
        selection: selection.explain(),
        exhausted,
        overlaps: overlaps.map((o) => ({ a: o.a, b: o.b, overlap: o.overlap.toString() })),
      },
      null,
      2,
    ),
  );
} else {
  console.log('@isthmus/ipam demo\n');
  console.log(describe(podPool));
  console.log(`\n${describe(v6Pool)}`);
  console.log(
    `\nrestore from snapshot (${snapshot.allocations.length} owners): next address ${nextRestored}, original gives ${nextOriginal} -> ${nextOriginal.equals(nextRestored) ? 'same' : 'DIFFERENT'}`,
  );
  console.log(`pool selection: ${selection.explain()}`);
  console.log(`full pool: ${exhausted}`);
  console.log(
    `overlap check: ${overlaps.map((o) => `${o.a} and ${o.b} share ${o.overlap}`).join('; ') || 'no overlapping pools'}`,
  );
}
