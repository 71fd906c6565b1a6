import { afterAll, expect, it } from 'vitest';
import { describeKernel, existingNamespaces, Lab, run } from './netns';

describeKernel('Lab (network namespaces)', ['netns', 'veth', 'ping'], () => {
  const lab = new Lab('labself');
  afterAll(() => lab.cleanup());

  it('joins two namespaces by veth, carries a ping, and removes namespaces and processes at cleanup', async () => {
    const inner = new Lab('inner');
    const a = await inner.netns('a');
    const b = await inner.netns('b');
    await inner.veth(a, 'eth0', b, 'eth0', { a: ['192.0.2.1/24'], b: ['192.0.2.2/24'] });
    const ping = await a.run('ping', ['-c', '1', '-W', '2', '192.0.2.2']);
    expect(ping.code, ping.stderr).toBe(0);
    const sleeper = await b.start('sleep', ['300']);
    expect(existingNamespaces(inner.id)).toHaveLength(2);
    await inner.cleanup();
    expect(existingNamespaces(inner.id)).toEqual([]);
    expect(sleeper.child.exitCode !== null || sleeper.child.signalCode !== null).toBe(true);
    // The host namespace never saw the test's underlay.
    const host = await run('ip', ['-o', 'addr', 'show']);
    expect(host.stdout).not.toContain('192.0.2.1/24');
  });

  it('ipJson parses `ip -json` output of a namespace', async () => {
    const ns = await lab.netns('j');
    const links = await ns.ipJson<{ ifname: string }[]>(['link', 'show']);
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
  });
});
