// The rendered text is checked by the real tools inside a network namespace the test creates.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns } from '../../../testing/netns';
import { createGlobalnet } from './globalnet';
import { type GlobalnetNatPlan, planGlobalnetNat } from './nat-plan';
import { planRemap } from './remap';
import { planRemapNat } from './remap-nat';
import { renderIptables } from './render-iptables';
import { renderNft } from './render-nft';
import { stableRuleset } from './test-support';

function plan(family: 4 | 6): GlobalnetNatPlan {
  const v4 = family === 4;
  const gn = createGlobalnet({ globalCidr: v4 ? '242.0.0.0/16' : 'fd00:242::/64' });
  gn.allocateEgress({ kind: 'cluster' });
  gn.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2);
  gn.allocateEgress({ kind: 'namespace', namespace: 'empty' });
  gn.allocateEgress({
    kind: 'pods',
    namespace: 'shop',
    name: 'db',
    selector: { matchLabels: { app: 'db' } },
  });
  gn.allocateIngress({ kind: 'service', namespace: 'shop', name: 'web' });
  gn.allocateIngress({ kind: 'pod', namespace: 'shop', name: 'cache-0' });
  gn.allocateIngress({
    kind: 'endpoint',
    namespace: 'ext',
    service: 'legacy',
    address: v4 ? '10.0.9.9' : 'fd00::99',
  });
  gn.allocateHealthCheck('gw-1');
  const ip = (n: number) => (v4 ? `10.0.1.${n}` : `fd00::1:${n}`);
  return planGlobalnetNat({
    globalCidr: gn.globalCidr,
    localCidrs: v4 ? ['10.0.0.0/16', '100.0.0.0/16'] : ['fd00::/64'],
    remoteGlobalCidrs: v4 ? ['242.1.0.0/16', '242.2.0.0/16'] : ['fd00:243::/64'],
    egress: gn.egress(),
    ingress: gn
      .ingress()
      .map((i) => (i.target.kind === 'service' ? { ...i, ip: v4 ? '100.0.0.10' : 'fd00::10' } : i)),
    healthChecks: gn.healthChecks().map((h) => ({ ...h, cniIp: ip(1) })),
    pods: [
      { namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: [ip(5)] },
      { namespace: 'shop', name: 'web-1', ips: [ip(6)] },
      { namespace: 'shop', name: 'cache-0', ips: [ip(7)] },
      { namespace: 'other', name: 'x', ips: [ip(8)] },
    ],
  });
}

function remapNft(): string {
  const local = ['10.0.0.0/16', '10.96.0.0/12', 'fd00:10::/64'];
  const mine = planRemap(local, [{ cluster: 'b', prefixes: local }], {
    remapRange: ['10.128.0.0/9', 'fd99::/48'],
  });
  const theirs = planRemap(local, [{ cluster: 'a', prefixes: local }], {
    remapRange: ['172.0.0.0/11', 'fd98::/48'],
  });
  return renderNft(planRemapNat({ remap: mine, seenBy: { b: theirs.peers[0]!.mappings } }));
}

describeKernel(
  'rendered rules are accepted by nft, iptables-restore and ipset',
  ['netns', 'nft', 'iptables', 'ipset'],
  () => {
    const lab = new Lab('gnchk');
    let ns: Netns;
    beforeAll(async () => {
      ns = await lab.netns('chk');
    });
    afterAll(() => lab.cleanup());

    it('nft -c -f accepts the IPv4, IPv6 and remap scripts', async () => {
      for (const text of [renderNft(plan(4)), renderNft(plan(6)), remapNft()]) {
        const r = await ns.run('nft', ['-c', '-f', '-'], { input: text });
        expect(r.code, `${r.stderr}\n${text}`).toBe(0);
      }
    });

    it('loading the nft script twice gives the same ruleset, holding the plan, and leaves other tables alone', async () => {
      await ns.must('nft', ['-f', '-'], {
        input:
          'table inet other-owner {\n\tchain c {\n\t\ttype filter hook forward priority 0; policy accept;\n\t}\n}\n',
      });
      const p = plan(4);
      await ns.must('nft', ['-f', '-'], { input: renderNft(p) });
      const once = stableRuleset(await ns.must('nft', ['-j', 'list', 'ruleset']));
      await ns.must('nft', ['-f', '-'], { input: renderNft(p) });
      const twice = stableRuleset(await ns.must('nft', ['-j', 'list', 'ruleset']));
      expect(twice).toEqual(once);
      const objects = once as Array<Record<string, { name?: string; table?: string; elem?: unknown[] }>>;
      expect(objects.some((o) => o.table?.name === 'other-owner')).toBe(true);
      // What the kernel holds is what the plan says: every set's elements and the ingress map.
      for (const s of [...p.egress.pods, ...p.egress.namespaces]) {
        const k = objects.find((o) => o.set?.name === s.set)?.set;
        expect(k, s.set).toBeDefined();
        expect((k!.elem ?? []).map(String).sort()).toEqual([...s.elements].sort());
      }
      const ingress = objects.find((o) => o.map?.name === 'ingress')?.map;
      expect((ingress!.elem as Array<[string, string]>).map(([g, t]) => `${g}>${t}`).sort()).toEqual(
        p.ingress.map((i) => `${i.globalIp}>${i.to}`).sort(),
      );
      const remap = remapNft();
      await ns.must('nft', ['-f', '-'], { input: remap });
      await ns.must('nft', ['-f', '-'], { input: remap });
      const tables = (
        stableRuleset(await ns.must('nft', ['-j', 'list', 'tables'])) as Array<{
          table: { family: string; name: string };
        }>
      ).map((t) => `${t.table.family} ${t.table.name}`);
      expect(tables.sort()).toEqual([
        'inet other-owner',
        'ip isthmus-globalnet',
        'ip isthmus-remap',
        'ip6 isthmus-remap',
      ]);
    });

    it('iptables-restore --test accepts the Submariner layout once its ipsets exist, and applying it twice changes nothing', async () => {
      for (const family of [4, 6] as const) {
        const r = renderIptables(plan(family));
        await ns.must('ipset', ['-exist', 'restore'], { input: r.ipsetRestore });
        const test = await ns.run(r.tool, ['--noflush', '--test'], { input: r.restore });
        expect(test.code, `${test.stderr}\n${r.restore}`).toBe(0);
        const save = r.tool === 'iptables-restore' ? 'iptables-save' : 'ip6tables-save';
        const cli = r.tool === 'iptables-restore' ? 'iptables' : 'ip6tables';
        const apply = async () => {
          await ns.must('ipset', ['-exist', 'restore'], { input: r.ipsetRestore });
          await ns.must(r.tool, ['--noflush'], { input: r.restore });
          for (const hook of r.hooks) {
            const check = await ns.run(cli, ['-t', 'nat', '-C', ...hook.slice(1)]);
            if (check.code !== 0) await ns.must(cli, ['-t', 'nat', ...hook]);
          }
          return (await ns.must(save, ['-t', 'nat'])).replace(/^#.*\n/gm, '');
        };
        const first = await apply();
        expect(await apply()).toBe(first);
        expect(first).toMatch(/^\*nat\n(:.*\n)*-A PREROUTING -j SUBMARINER-GN-INGRESS\n/);
        expect(first).toContain('-A POSTROUTING -j SUBMARINER-POSTROUTING');
        expect(first.split('\n').filter((l) => l.startsWith('-A SUBMARINER-GN-EGRESS')).length).toBe(6);
      }
    });
  },
);
