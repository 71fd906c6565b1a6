import { type Addr, type Family, type Prefix, tryParseAddr, tryParsePrefix } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';

/** An address parsed strictly, or a typed error naming the field it came from. */
export function addrOf(text: unknown, field: string): Addr {
  const a = typeof text === 'string' ? tryParseAddr(text) : undefined;
  if (a === undefined) {
    throw new RoutePlannerError('INVALID_ADDRESS', `${field}: ${show(text)} is not an IP address`, {
      field,
      value: text,
    });
  }
  return a;
}

/** A CIDR parsed strictly (host bits clear), or a typed error naming the field it came from. */
export function prefixOf(text: unknown, field: string): Prefix {
  const p = typeof text === 'string' ? tryParsePrefix(text) : undefined;
  if (p === undefined) {
    throw new RoutePlannerError(
      'INVALID_PREFIX',
      `${field}: ${show(text)} is not a CIDR with host bits clear`,
      {
        field,
        value: text,
      },
    );
  }
  return p;
}

/** An interface address "ip/len" (host bits set, as on a NIC): the address and its length. */
export function ifaceAddrOf(text: unknown, field: string): { addr: Addr; bits: number; subnet: Prefix } {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  const addr = slash > 0 ? tryParseAddr((text as string).slice(0, slash)) : undefined;
  const bits = slash > 0 ? Number((text as string).slice(slash + 1)) : Number.NaN;
  const subnet = addr ? tryParsePrefix(`${addr}/${bits}`, { mask: true }) : undefined;
  if (!addr || !subnet || !/^\d{1,3}$/.test((text as string).slice(slash + 1))) {
    throw new RoutePlannerError(
      'INVALID_ADDRESS',
      `${field}: ${show(text)} is not an interface address "ip/len"`,
      {
        field,
        value: text,
      },
    );
  }
  return { addr, bits, subnet };
}

/** A route destination in plan form: "default" or a canonical CIDR (a bare address means its host prefix). */
export function dstOf(text: unknown, field: string): { dst: string; family: Family } {
  if (text === 'default')
    throw new RoutePlannerError('INVALID_PREFIX', `${field}: "default" needs a family`, { field });
  if (typeof text === 'string' && !text.includes('/')) {
    const a = addrOf(text, field);
    return { dst: `${a}/${a.bitLength()}`, family: a.family };
  }
  const p = prefixOf(text, field);
  return { dst: p.bits === 0 ? 'default' : p.toString(), family: p.family };
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A string that sorts like the address (fixed-width hex), for canonical order and identity keys. */
export function addrSortKey(text: string): string {
  const a = tryParseAddr(text);
  return a ? hex(a.toBytes()) : `~${text}`;
}

/** Sort key of a plan destination ("default" or CIDR): address then length. */
export function dstSortKey(dst: string): string {
  if (dst === 'default') return '';
  const slash = dst.indexOf('/');
  const head = slash < 0 ? dst : dst.slice(0, slash);
  const len = slash < 0 ? '999' : dst.slice(slash + 1).padStart(3, '0');
  return `${addrSortKey(head)}/${len}`;
}

/** The family of an address or CIDR in text form (6 when it has a colon). */
export function familyOfText(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

/** The prefix a plan destination stands for ("default" is /0 of the family). */
export function dstPrefix(dst: string, family: Family): Prefix {
  return prefixOf(dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : dst, 'dst');
}
