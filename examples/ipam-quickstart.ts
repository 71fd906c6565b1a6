import { createPool, IpamError, restorePool } from '@isthmus/ipam';

const pool = createPool({
  name: 'default-v4',
  subnet: '172.110.0.0/16',
  ips: ['172.110.1.1-172.110.1.200'],
  gateway: '172.110.1.1',
});

const ip = pool.allocate('pod-uid-1'); // 172.110.1.2, the lowest free address
pool.allocate('pod-uid-1'); // same owner, same address
const egress = pool.allocateBlock('egress/ns/shop', 8); // 172.110.1.3 .. 172.110.1.10
pool.reserve('sts/db-0', '172.110.1.100'); // a fixed address

const restored = restorePool(pool.spec, JSON.parse(JSON.stringify(pool.snapshot())));
console.log(String(ip), egress.length, restored.stats(), pool.freeRanges().toString());

try {
  pool.reserve('sts/db-1', '172.110.1.100');
} catch (e) {
  if (IpamError.isInstance(e)) console.log(e.code); // ADDRESS_IN_USE
}
