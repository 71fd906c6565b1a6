import type { Family, Prefix } from '@isthmus/ipam';
import { type CommonCableOptions, checkInnerMtu, resolveCable } from './cable-context';
import type { EndpointChoice, GatewayEndpoint } from './endpoint';
import { CableError, show } from './errors';
import { type MssClampRule, mssClampRules } from './mss';
import { tunnelMtu } from './mtu';
import { Secret } from './secret';
import { checkInt } from './validate';

/**
 * Submariner's libreswan facts: IKEv2 with a pre-shared key, NAT-T port 4500 as the IKE port on both
 * sides, forced UDP encapsulation across NAT (auto otherwise), DPD every 30 s with action hold, ids
 * are the private IPs, connection names `<cable>-v<family>-<local index>-<remote index>`. The
 * AES-GCM proposals are ours: the MTU arithmetic assumes them.
 */
export const LIBRESWAN_DEFAULTS = {
  dpdDelay: 30,
  dpdTimeout: 150,
  dpdAction: 'hold',
  ike: 'aes_gcm256-sha2_256-dh19',
  esp: 'aes_gcm256',
} as const;

export interface LibreswanOptions extends CommonCableOptions {
  readonly driver: 'libreswan';
  /** The pre-shared key (printable ASCII without quotes or backslashes, at least 16 characters). */
  readonly psk: Secret | string;
  /** Encapsulate ESP in UDP even between private IPs (Submariner's forceUDPEncaps). */
  readonly forceEncapsulation?: boolean;
  /** Seconds between liveness probes (default 30). */
  readonly dpdDelay?: number;
  /** Seconds without an answer before the peer counts as dead (default 150). */
  readonly dpdTimeout?: number;
}

export interface LibreswanPeer {
  readonly clusterId: string;
  readonly node: string | null;
  readonly endpoint: EndpointChoice;
  /** Largest inner packet towards this peer (ESP, with UDP when encapsulated). */
  readonly mtu: number;
  readonly subnets: readonly string[];
}

/** One tunnel-mode connection: one local subnet to one remote subnet. */
export interface IpsecConnection {
  readonly name: string;
  readonly clusterId: string;
  readonly family: Family;
  readonly left: string;
  readonly leftId: string;
  readonly leftSubnet: string;
  readonly leftIkePort: number;
  readonly right: string;
  readonly rightId: string;
  readonly rightSubnet: string;
  readonly rightIkePort: number;
  /** "yes" across NAT (or when forced), "auto" between private IPs. */
  readonly encapsulation: 'yes' | 'auto';
  readonly mtu: number;
}

export interface LibreswanPlan {
  readonly driver: 'libreswan';
  readonly localClusterId: string;
  readonly underlayFamily: Family;
  /** The smallest MTU over all peers (what a single interface MTU would have to be). */
  readonly mtu: number;
  readonly psk: Secret;
  readonly ike: string;
  readonly esp: string;
  readonly dpdDelay: number;
  readonly dpdTimeout: number;
  readonly dpdAction: 'hold';
  readonly localSubnets: readonly string[];
  readonly peers: readonly LibreswanPeer[];
  /** Sorted by name. */
  readonly connections: readonly IpsecConnection[];
  readonly mssClamp: readonly MssClampRule[];
}

const PSK_RULE = 'at least 16 printable ASCII characters without a double quote or a backslash';

/** Whether a PSK can go between double quotes in a .secrets file (and is not trivially short). */
function pskOk(text: unknown): text is string {
  return typeof text === 'string' && text.length >= 16 && /^[\x20-\x7e]+$/.test(text) && !/["\\]/.test(text);
}

function checkPsk(value: unknown): Secret {
  if (value === undefined || value === null)
    throw new CableError('MISSING_SECRET', 'psk is required', { field: 'psk' });
  const text = Secret.isInstance(value) ? value.reveal() : value;
  // One message for every bad PSK: saying which rule failed would tell its length or content.
  if (!pskOk(text)) throw new CableError('INVALID_SECRET', `psk must be ${PSK_RULE}`, { field: 'psk' });
  return Secret.isInstance(value) ? value : new Secret(text);
}

/** Submariner's cable name: `submariner-cable-<cluster>-<private IP with dashes>`. */
function cableName(clusterId: string, privateIp: string): string {
  return `submariner-cable-${clusterId}-${privateIp.replace(/[.:]/g, '-')}`;
}

/** Plans the IPsec connections of `local`: one per (local subnet, remote subnet) pair of one family. */
export function planLibreswan(
  local: GatewayEndpoint,
  remotes: GatewayEndpoint | readonly GatewayEndpoint[],
  options: LibreswanOptions,
): LibreswanPlan {
  const psk = checkPsk(options.psk);
  const dpdDelay = checkInt(options.dpdDelay ?? LIBRESWAN_DEFAULTS.dpdDelay, 'dpdDelay', 1, 86400);
  const dpdTimeout = checkInt(options.dpdTimeout ?? LIBRESWAN_DEFAULTS.dpdTimeout, 'dpdTimeout', 1, 86400);
  if (dpdTimeout <= dpdDelay) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `dpdTimeout ${dpdTimeout} must be longer than dpdDelay ${dpdDelay}`,
      {
        field: 'dpdTimeout',
        value: dpdTimeout,
      },
    );
  }
  if (options.forceEncapsulation !== undefined && typeof options.forceEncapsulation !== 'boolean') {
    throw new CableError(
      'INVALID_ARGUMENT',
      `forceEncapsulation ${show(options.forceEncapsulation)} must be a boolean`,
      {
        field: 'forceEncapsulation',
      },
    );
  }
  const cable = resolveCable(local, remotes, options);
  const l = cable.local;
  const byFamily = (subnets: readonly Prefix[], f: Family) => subnets.filter((s) => s.family === f);
  const peers: LibreswanPeer[] = [];
  const connections: IpsecConnection[] = [];
  const groups: { subnets: readonly Prefix[]; mtu: number }[] = [];
  for (const { ep, choice } of cable.peers) {
    const encapsulate = choice.natT || options.forceEncapsulation === true;
    const mtu = tunnelMtu('libreswan', {
      ...(options.linkMtu === undefined ? {} : { linkMtu: options.linkMtu }),
      underlayFamily: cable.underlayFamily,
      natT: encapsulate,
    });
    checkInnerMtu('libreswan', mtu, [...l.subnets, ...ep.subnets]);
    for (const r of ep.subnets) {
      if (byFamily(l.subnets, r.family).length === 0) {
        throw new CableError(
          'FAMILY_MISMATCH',
          `subnet ${r} of cluster ${show(ep.clusterId)} is IPv${r.family} and cluster ${show(l.clusterId)} has no IPv${r.family} subnet to pair it with`,
          { clusterId: ep.clusterId, subnet: String(r) },
        );
      }
    }
    for (const s of l.subnets) {
      if (byFamily(ep.subnets, s.family).length === 0) {
        throw new CableError(
          'FAMILY_MISMATCH',
          `local subnet ${s} is IPv${s.family} and cluster ${show(ep.clusterId)} has no IPv${s.family} subnet to pair it with`,
          { clusterId: ep.clusterId, subnet: String(s) },
        );
      }
    }
    const name = cableName(ep.clusterId, String(ep.privateIp));
    for (const f of [4, 6] as const) {
      const ls = byFamily(l.subnets, f);
      const rs = byFamily(ep.subnets, f);
      ls.forEach((ln, li) => {
        rs.forEach((rn, ri) => {
          connections.push({
            name: `${name}-v${f}-${li}-${ri}`,
            clusterId: ep.clusterId,
            family: f,
            left: String(l.privateIp),
            leftId: String(l.privateIp),
            leftSubnet: String(ln),
            leftIkePort: l.port,
            right: choice.address,
            rightId: String(ep.privateIp),
            rightSubnet: String(rn),
            rightIkePort: choice.port,
            encapsulation: encapsulate ? 'yes' : 'auto',
            mtu,
          });
        });
      });
    }
    peers.push({
      clusterId: ep.clusterId,
      node: ep.node,
      endpoint: choice,
      mtu,
      subnets: ep.subnets.map(String),
    });
    groups.push({ subnets: ep.subnets, mtu });
  }
  connections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const mtu =
    peers.length === 0
      ? tunnelMtu('libreswan', { underlayFamily: cable.underlayFamily })
      : Math.min(...peers.map((p) => p.mtu));
  return {
    driver: 'libreswan',
    localClusterId: l.clusterId,
    underlayFamily: cable.underlayFamily,
    mtu,
    psk,
    ike: LIBRESWAN_DEFAULTS.ike,
    esp: LIBRESWAN_DEFAULTS.esp,
    dpdDelay,
    dpdTimeout,
    dpdAction: LIBRESWAN_DEFAULTS.dpdAction,
    localSubnets: l.subnets.map(String),
    peers,
    connections,
    mssClamp: mssClampRules(l.subnets, groups),
  };
}

/** libreswan refuses ikeport=500 (it is the default); every other port is written out. */
function ikePort(side: 'left' | 'right', port: number): string[] {
  return port === 500 ? [] : [`\t${side}ikeport=${port}`];
}

/** The `conn` sections for ipsec.conf (or a file in /etc/ipsec.d). No secrets. */
export function renderIpsecConf(plan: LibreswanPlan): string {
  const out: string[] = [];
  for (const c of plan.connections) {
    out.push(
      `conn ${c.name}`,
      '\tauto=start',
      '\ttype=tunnel',
      '\tikev2=yes',
      '\tauthby=secret',
      `\tleft=${c.left}`,
      `\tleftid=${c.leftId}`,
      `\tleftsubnet=${c.leftSubnet}`,
      ...ikePort('left', c.leftIkePort),
      `\tright=${c.right}`,
      `\trightid=${c.rightId}`,
      `\trightsubnet=${c.rightSubnet}`,
      ...ikePort('right', c.rightIkePort),
      `\tencapsulation=${c.encapsulation}`,
      `\tike=${plan.ike}`,
      `\tesp=${plan.esp}`,
      `\tdpddelay=${plan.dpdDelay}`,
      `\tdpdtimeout=${plan.dpdTimeout}`,
      `\tdpdaction=${plan.dpdAction}`,
      `\tmtu=${c.mtu}`,
      '',
    );
  }
  return out.join('\n');
}

/**
 * The `.secrets` line (Submariner's form: the one PSK for any pair of ids). Contains the PSK: write it
 * with writeSecretFile (mode 0600).
 */
export function renderIpsecSecrets(plan: LibreswanPlan): string {
  return `%any %any : PSK "${plan.psk.reveal()}"\n`;
}
