// The real tools accept what the renderers produce, and what they read back matches the plan.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKernel, Lab, run } from '../../../testing/netns';
import type { GatewayEndpoint } from './endpoint';
import { generateWireGuardKeyPair } from './keygen';
import { renderIpsecConf } from './libreswan';
import { renderMssClampIptables, renderMssClampNft } from './mss';
import { planCable } from './plan';
import { meshEndpoint, startWireGuardGo, uniqueWgName } from './test-support';
import { renderVxlanBridgeBatch, renderVxlanIpBatch } from './vxlan';
import {
  parseWireGuardConf,
  renderWgQuickConf,
  renderWireGuardIpBatch,
  renderWireGuardSetconf,
} from './wireguard';
import { writeSecretFile } from './write-secret';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'isthmus-cable-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function mesh(n: number, withKeys: boolean): GatewayEndpoint[] {
  return Array.from({ length: n }, (_, i) =>
    meshEndpoint(
      i,
      withKeys ? { publicKey: generateWireGuardKeyPair().publicKey, networks: 2 } : { networks: 2 },
    ),
  );
}

describeKernel('wg setconf on a wireguard-go interface', ['root', 'netns', 'wireguard-go', 'wg'], () => {
  const lab = new Lab('cabwg');
  afterAll(() => lab.cleanup());

  it('accepts the rendered setconf file (mode 0600) and `wg showconf` parses into the same peer set', async () => {
    const ns = await lab.netns('gw');
    const name = uniqueWgName();
    await startWireGuardGo(ns, name);
    const eps = mesh(6, true);
    const psk = generateWireGuardKeyPair().privateKey;
    const plan = planCable(eps[0]!, eps.slice(1), {
      driver: 'wireguard',
      privateKey: generateWireGuardKeyPair().privateKey,
      interfaceName: name,
      presharedKeys: { c3: psk },
    });
    const file = join(tempDir(), `${name}.conf`);
    writeSecretFile(file, renderWireGuardSetconf(plan));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await ns.must('wg', ['setconf', name, file]);
    const shown = parseWireGuardConf(await ns.must('wg', ['showconf', name]));
    expect(shown).toEqual(parseWireGuardConf(renderWireGuardSetconf(plan)));
    expect(shown.peers).toHaveLength(5);
    expect(shown.peers.filter((p) => p.hasPresharedKey)).toHaveLength(1);
    // wg-quick's own parser reads the .conf and strips it to the same setconf content.
    const quick = join(tempDir(), `${name}.conf`);
    writeSecretFile(quick, renderWgQuickConf(plan));
    const stripped = await run('wg-quick', ['strip', quick]);
    expect(stripped.code, stripped.stderr).toBe(0);
    expect(parseWireGuardConf(stripped.stdout)).toEqual(shown);
  });
});

describeKernel('ip -batch for a dual-stack WireGuard cable', ['root', 'netns', 'wireguard-go', 'wg'], () => {
  const lab = new Lab('cabwg6');
  afterAll(() => lab.cleanup());

  it('ip accepts the routes of both families with a route source (the IPv4 source only on IPv4 routes)', async () => {
    const ns = await lab.netns('gw');
    const name = uniqueWgName();
    await startWireGuardGo(ns, name);
    await ns.must('ip', ['addr', 'add', '10.10.0.1/32', 'dev', 'lo']);
    const plan = planCable(
      { clusterId: 'east', privateIp: '198.18.0.1', subnets: ['10.10.0.0/16', 'fd00:10::/64'] },
      {
        clusterId: 'west',
        privateIp: '198.18.0.2',
        subnets: ['10.20.0.0/16', 'fd00:20::/64'],
        publicKey: generateWireGuardKeyPair().publicKey,
      },
      {
        driver: 'wireguard',
        privateKey: generateWireGuardKeyPair().privateKey,
        interfaceName: name,
        sourceIp: '10.10.0.1',
        sameNetwork: true,
      },
    );
    await ns.ipBatch(renderWireGuardIpBatch(plan));
    const v4 = await ns.ipJson<{ dst: string; prefsrc?: string }[]>(['-4', 'route', 'show', 'dev', name]);
    const v6 = await ns.ipJson<{ dst: string }[]>(['-6', 'route', 'show', 'dev', name]);
    expect(v4).toContainEqual(expect.objectContaining({ dst: '10.20.0.0/16', prefsrc: '10.10.0.1' }));
    expect(v6.map((r) => r.dst)).toContain('fd00:20::/64');
  });
});

describeKernel('ip -batch / bridge -batch for VXLAN', ['root', 'netns', 'vxlan'], () => {
  const lab = new Lab('cabvx');
  afterAll(() => lab.cleanup());

  it('the kernel accepts the device, address, routes and FDB, and reports them back as planned', async () => {
    const ns = await lab.netns('gw');
    const eps = mesh(5, false);
    await ns.must('ip', ['addr', 'add', `${eps[0]!.privateIp}/16`, 'dev', 'lo']);
    await ns.must('ip', ['addr', 'add', '10.0.0.1/32', 'dev', 'lo']);
    const plan = planCable(eps[0]!, eps.slice(1), {
      driver: 'vxlan',
      sourceIp: '10.0.0.1',
      sameNetwork: true,
    });
    await ns.ipBatch(renderVxlanIpBatch(plan));
    await ns.must('bridge', ['-batch', '-'], { input: renderVxlanBridgeBatch(plan) });
    const [link] = await ns.ipJson<
      {
        mtu: number;
        linkinfo: {
          info_kind: string;
          info_data: { id: number; port: number; local: string; learning: boolean };
        };
      }[]
    >(['-d', 'link', 'show', 'dev', plan.interfaceName]);
    expect(link!.mtu).toBe(plan.mtu);
    expect(link!.linkinfo.info_kind).toBe('vxlan');
    expect(link!.linkinfo.info_data).toMatchObject({
      id: plan.vni,
      port: plan.port,
      local: plan.local,
      learning: false,
    });
    const routes = await ns.ipJson<{ dst: string; gateway: string; prefsrc: string }[]>([
      'route',
      'show',
      'dev',
      plan.interfaceName,
    ]);
    const back = routes
      .filter((r) => r.gateway !== undefined)
      .map((r) => ({ dst: r.dst, via: r.gateway, src: r.prefsrc }))
      .sort((x, y) => (x.dst < y.dst ? -1 : 1));
    expect(back).toEqual(
      plan.routes
        .map((r) => ({ dst: r.dst, via: r.via, src: r.src }))
        .sort((x, y) => (x.dst < y.dst ? -1 : 1)),
    );
    const fdb = JSON.parse(await ns.must('bridge', ['-json', 'fdb', 'show', 'dev', plan.interfaceName])) as {
      mac: string;
      dst: string;
    }[];
    expect(fdb.map((f) => f.dst).sort()).toEqual(plan.fdb.map((f) => f.dst).sort());
    expect(new Set(fdb.map((f) => f.mac))).toEqual(new Set(['00:00:00:00:00:00']));
  });

  it('a device named like an `ip link` keyword ("up") is created under that name', async () => {
    const ns = await lab.netns('kw');
    const eps = mesh(2, false);
    await ns.must('ip', ['addr', 'add', `${eps[0]!.privateIp}/16`, 'dev', 'lo']);
    const plan = planCable(eps[0]!, eps[1]!, { driver: 'vxlan', interfaceName: 'up', sameNetwork: true });
    await ns.ipBatch(renderVxlanIpBatch(plan));
    const links = await ns.ipJson<{ ifname: string; linkinfo?: { info_kind: string } }[]>([
      '-d',
      'link',
      'show',
    ]);
    expect(links.filter((l) => l.linkinfo?.info_kind === 'vxlan').map((l) => l.ifname)).toEqual(['up']);
  });
});

describeKernel('libreswan reads the rendered ipsec.conf', ['libreswan'], () => {
  it('`ipsec readwriteconf` reports no error for IPv4/IPv6, NAT/private, port 500 and 4500 plans, and keeps every conn', async () => {
    const dir = tempDir();
    const psk = 'g6Kp0yQ2c8Zt1uVw3xYz4AbCdEfGhIjK';
    const local: GatewayEndpoint = {
      clusterId: 'east',
      privateIp: '198.18.0.1',
      privateSubnet: '198.18.0.0/24',
      subnets: ['10.10.0.0/16', 'fd00:10::/64'],
    };
    const plans = [
      planCable(
        local,
        mesh(4, false)
          .slice(1)
          .map((e) => ({ ...e, subnets: [...e.subnets, `fd00:${e.clusterId.slice(1)}1::/64`] })),
        {
          driver: 'libreswan',
          psk,
        },
      ),
      planCable(
        { ...local, port: 500 },
        { clusterId: 'west', privateIp: '198.18.0.2', port: 500, subnets: ['10.20.0.0/16', 'fd00:20::/64'] },
        {
          driver: 'libreswan',
          psk,
          sameNetwork: true,
        },
      ),
      planCable(
        { clusterId: 'east', privateIp: '2001:db8::1', subnets: ['fd00:10::/64'] },
        {
          clusterId: 'west',
          privateIp: '2001:db8:1::2',
          publicIp: '2001:db8:2::2',
          subnets: ['fd00:20::/64'],
        },
        { driver: 'libreswan', psk, linkMtu: 9000 },
      ),
    ];
    for (const [i, plan] of plans.entries()) {
      const file = join(dir, `cable-${i}.conf`);
      writeFileSync(file, `config setup\n\n${renderIpsecConf(plan)}`);
      const r = await run('ipsec', ['readwriteconf', '--config', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const names = [...r.stdout.matchAll(/^conn (\S+)/gm)].map((m) => m[1]).filter((n) => n !== '%default');
      expect(names.sort()).toEqual(plan.connections.map((c) => c.name));
      for (const c of plan.connections) {
        const section = r.stdout.split(`conn ${c.name}\n`)[1]!.split('\nconn ')[0]!;
        expect(section).toContain(`leftsubnet=${c.leftSubnet}`);
        expect(section).toContain(`rightsubnet=${c.rightSubnet}`);
        expect(section).toContain(`right=${c.right}`);
      }
    }
    const alg = await run('ipsec', ['algparse', `ike=${plans[0]!.ike}`, `esp=${plans[0]!.esp}`]);
    expect(alg.code, alg.stdout + alg.stderr).toBe(0);
    expect(alg.stdout).toContain('AES_GCM_16_256');
  });

  it('readwriteconf does fail on a broken file (the check above can fail)', async () => {
    const file = join(tempDir(), 'broken.conf');
    writeFileSync(file, 'conn x\n\tleft=198.18.0.1\n\tright=198.18.0.2\n\tikeport=500\n\tnotakeyword=1\n');
    expect((await run('ipsec', ['readwriteconf', '--config', file])).code).not.toBe(0);
  });
});

describeKernel('nft and iptables accept the MSS clamping rules', ['root', 'netns', 'nft', 'iptables'], () => {
  const lab = new Lab('cabmss');
  let ns: Awaited<ReturnType<Lab['netns']>>;
  beforeAll(async () => {
    ns = await lab.netns('fw');
  });
  afterAll(() => lab.cleanup());

  const local: GatewayEndpoint = {
    clusterId: 'east',
    privateIp: '198.18.0.1',
    subnets: ['10.10.0.0/16', 'fd00:10::/64'],
  };
  const remote: GatewayEndpoint = {
    clusterId: 'west',
    privateIp: '198.18.0.2',
    subnets: ['10.20.0.0/16', 'fd00:20::/64'],
    publicKey: generateWireGuardKeyPair().publicKey,
  };
  const plan = planCable(local, remote, {
    driver: 'wireguard',
    privateKey: generateWireGuardKeyPair().privateKey,
    sameNetwork: true,
  });

  it('nft -f loads the table twice (re-apply replaces it) and lists every rule with the planned MSS', async () => {
    await ns.must('nft', ['-f', '-'], { input: renderMssClampNft(plan.mssClamp) });
    await ns.must('nft', ['-f', '-'], { input: renderMssClampNft(plan.mssClamp) });
    const listed = JSON.parse(
      await ns.must('nft', ['-j', 'list', 'chain', 'inet', 'isthmus_cable', 'mss_clamp']),
    ) as {
      nftables: { rule?: unknown }[];
    };
    const rules = listed.nftables.filter((x) => x.rule !== undefined);
    expect(rules).toHaveLength(plan.mssClamp.length);
    const text = await ns.must('nft', ['list', 'ruleset']);
    expect(text.match(/maxseg size set 1400/g)).toHaveLength(2);
    expect(text.match(/maxseg size set 1380/g)).toHaveLength(2);
  });

  it('iptables-restore and ip6tables-restore load their scripts', async () => {
    await ns.must('iptables-restore', ['--noflush'], { input: renderMssClampIptables(plan.mssClamp, 4) });
    await ns.must('ip6tables-restore', ['--noflush'], { input: renderMssClampIptables(plan.mssClamp, 6) });
    const v4 = await ns.must('iptables-save', ['-t', 'mangle']);
    expect(v4).toContain(
      '-A ISTHMUS-MSS-CLAMP -s 10.10.0.0/16 -d 10.20.0.0/16 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1401:65535 -j TCPMSS --set-mss 1400',
    );
    const v6 = await ns.must('ip6tables-save', ['-t', 'mangle']);
    expect(v6).toContain('--set-mss 1380');
  });
});
