import type { GatewayEndpoint } from './endpoint';
import { CableError, show } from './errors';
import { type LibreswanOptions, type LibreswanPlan, planLibreswan } from './libreswan';
import { planVxlan, type VxlanOptions, type VxlanPlan } from './vxlan';
import { planWireGuard, type WireGuardOptions, type WireGuardPlan } from './wireguard';

/** Options of planCable; `driver` picks the kind of cable. */
export type CableOptions = WireGuardOptions | VxlanOptions | LibreswanOptions;

/** A plan for one gateway's cables, per driver. Plain data; secrets are redacting `Secret`s. */
export type CablePlan = WireGuardPlan | VxlanPlan | LibreswanPlan;

/** The plan type a given options type produces. */
export type PlanFor<O extends CableOptions> = O extends WireGuardOptions
  ? WireGuardPlan
  : O extends VxlanOptions
    ? VxlanPlan
    : LibreswanPlan;

/**
 * Plans the cables from the `local` gateway to one remote gateway (or to several: one peer each).
 * Pure: the private key or PSK is passed in, nothing is read, generated or written. Each peer carries
 * the endpoint it uses and why; lists are sorted (peers by cluster id, routes by destination).
 */
export function planCable<O extends CableOptions>(
  local: GatewayEndpoint,
  remote: GatewayEndpoint | readonly GatewayEndpoint[],
  options: O,
): PlanFor<O> {
  if (typeof options !== 'object' || options === null) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `options must be an object with a driver, got ${show(options)}`,
      {
        field: 'options',
      },
    );
  }
  const o = options as CableOptions;
  switch (o.driver) {
    case 'wireguard':
      return planWireGuard(local, remote, o) as PlanFor<O>;
    case 'vxlan':
      return planVxlan(local, remote, o) as PlanFor<O>;
    case 'libreswan':
      return planLibreswan(local, remote, o) as PlanFor<O>;
    default:
      throw new CableError(
        'INVALID_ARGUMENT',
        `driver ${show((o as { driver?: unknown }).driver)} must be wireguard, vxlan or libreswan`,
        { field: 'driver', value: (o as { driver?: unknown }).driver },
      );
  }
}
