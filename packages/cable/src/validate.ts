import { type Addr, IpamError, type Prefix, parseAddr, parsePrefix } from '@isthmus/ipam';
import { CableError, show } from './errors';

// Linux IFNAMSIZ is 16 including the NUL; these names end up on command lines, so no spaces or quotes.
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
// Kubernetes cluster ids (Submariner's clusterID) are DNS-1123 labels.
const CLUSTER_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const encoder = new TextEncoder();
const utf8Length = (s: string) => encoder.encode(s).length;

/** A Linux interface name: 1 to 15 bytes of [A-Za-z0-9_.-], not "." or "..". */
export function checkInterfaceName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !IFNAME.test(name) || name === '.' || name === '..') {
    const why =
      typeof name !== 'string'
        ? `must be a string, got ${typeof name}`
        : name.length === 0
          ? 'must not be empty'
          : utf8Length(name) > 15
            ? `is ${utf8Length(name)} bytes long, the limit is 15`
            : 'may contain only A-Z a-z 0-9 _ . - and must not be "." or ".."';
    throw new CableError('INVALID_INTERFACE_NAME', `${field} ${show(name)} ${why}`, { field, value: name });
  }
  return name;
}

/** A cluster id: a DNS-1123 label (lowercase letters, digits and "-", at most 63). */
export function checkClusterId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !CLUSTER_ID.test(id)) {
    throw new CableError(
      'INVALID_CLUSTER_ID',
      `${field} ${show(id)} is not a DNS-1123 label (lowercase letters, digits and "-", at most 63)`,
      { field, value: id },
    );
  }
  return id;
}

/** A UDP port: an integer from 1 to 65535. */
export function checkPort(port: unknown, field: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CableError(
      'INVALID_PORT',
      `${field} ${show(port)} is not a port (an integer from 1 to 65535)`,
      {
        field,
        value: port,
      },
    );
  }
  return port;
}

/** An integer in [min, max], else INVALID_ARGUMENT naming the field. */
export function checkInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `${field} ${show(value)} must be an integer from ${min} to ${max}`,
      { field, value, min, max },
    );
  }
  return value;
}

/** A strict IP address (no zones, no shortened IPv4), re-thrown as a CableError naming the field. */
export function checkAddr(text: unknown, field: string): Addr {
  try {
    return parseAddr(text as string);
  } catch (e) {
    if (IpamError.isInstance(e)) {
      throw new CableError('INVALID_ADDRESS', `${field}: ${e.message}`, { field, value: text });
    }
    throw e;
  }
}

/** A strict, masked CIDR prefix, re-thrown as a CableError naming the field. */
export function checkPrefix(text: unknown, field: string): Prefix {
  try {
    return parsePrefix(text as string);
  } catch (e) {
    if (IpamError.isInstance(e)) {
      throw new CableError('INVALID_PREFIX', `${field}: ${e.message}`, { field, value: text });
    }
    throw e;
  }
}
