import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './config';

describe('main.ts command line', () => {
  it('controller: cluster id required, identity from POD_NAME (else the hostname), defaults filled in', () => {
    expect(parseCommand(['controller'], { ISTHMUS_CLUSTER_ID: 'east', POD_NAME: 'ctl-1' }, 'host')).toEqual({
      kind: 'controller',
      clusterID: 'east',
      identity: 'ctl-1',
      metricsPort: 8080,
      logLevel: 'info',
    });
    const c = parseCommand(
      ['controller'],
      {
        ISTHMUS_CLUSTER_ID: 'east',
        ISTHMUS_CABLE_DRIVER: 'wireguard',
        ISTHMUS_LINK_MTU: '9000',
        METRICS_PORT: '9000',
        ISTHMUS_GLOBAL_CIDR: '242.1.0.0/16',
      },
      'host',
    );
    expect(c).toMatchObject({
      identity: 'host',
      cableDriver: 'wireguard',
      linkMtu: 9000,
      metricsPort: 9000,
      globalCidr: '242.1.0.0/16',
    });
  });

  it('controller: Lease namespace and timing from the environment, only when set', () => {
    const base = { ISTHMUS_CLUSTER_ID: 'east' };
    const c = parseCommand(['controller'], base, 'h');
    expect(c).not.toHaveProperty('leaseDurationSeconds');
    expect(c).not.toHaveProperty('leaseNamespace');
    expect(
      parseCommand(
        ['controller'],
        {
          ...base,
          ISTHMUS_LEASE_NAMESPACE: 'kube-system',
          ISTHMUS_LEASE_DURATION_SECONDS: '4',
          ISTHMUS_RENEW_DEADLINE_MS: '3000',
          ISTHMUS_RETRY_PERIOD_MS: '500',
        },
        'h',
      ),
    ).toMatchObject({
      leaseNamespace: 'kube-system',
      leaseDurationSeconds: 4,
      renewDeadlineMs: 3000,
      retryPeriodMs: 500,
    });
    // Only the duration: the defaults scale with it (as startController's do) and pass the checks.
    expect(parseCommand(['controller'], { ...base, ISTHMUS_LEASE_DURATION_SECONDS: '3' }, 'h')).toMatchObject(
      {
        leaseDurationSeconds: 3,
      },
    );
  });

  it('agent: NODE_NAME required; resync, metrics port and wireguard-go from the environment', () => {
    expect(parseCommand(['agent'], { NODE_NAME: 'n1' }, 'h')).toEqual({
      kind: 'agent',
      nodeName: 'n1',
      metricsPort: 9464,
      resyncSeconds: 60,
      wireguardGo: false,
      logLevel: 'info',
    });
    expect(
      parseCommand(
        ['agent'],
        { NODE_NAME: 'n1', ISTHMUS_WIREGUARD_GO: 'true', ISTHMUS_RESYNC_SECONDS: '0' },
        'h',
      ),
    ).toMatchObject({
      wireguardGo: true,
      resyncSeconds: 0,
    });
  });

  it('bad input is a UsageError naming the argument or variable', () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], {}, /subcommand is required/],
      [['serve'], {}, /unknown subcommand "serve"/],
      [['agent', 'x'], { NODE_NAME: 'n' }, /unexpected arguments: x/],
      [['agent'], {}, /NODE_NAME must be set/],
      [['controller'], {}, /ISTHMUS_CLUSTER_ID must be set/],
      [
        ['controller'],
        { ISTHMUS_CLUSTER_ID: 'e', ISTHMUS_LEASE_DURATION_SECONDS: '0' },
        /ISTHMUS_LEASE_DURATION_SECONDS="0" must be an integer from 1 to 3600/,
      ],
      [
        ['controller'],
        { ISTHMUS_CLUSTER_ID: 'e', ISTHMUS_LEASE_DURATION_SECONDS: '5', ISTHMUS_RENEW_DEADLINE_MS: '5000' },
        /ISTHMUS_RENEW_DEADLINE_MS=5000 must be below the lease duration \(5000 ms\)/,
      ],
      [
        ['controller'],
        { ISTHMUS_CLUSTER_ID: 'e', ISTHMUS_RENEW_DEADLINE_MS: '1000', ISTHMUS_RETRY_PERIOD_MS: '1000' },
        /ISTHMUS_RETRY_PERIOD_MS=1000 must be below the renew deadline \(1000 ms\)/,
      ],
      [
        ['controller'],
        { ISTHMUS_CLUSTER_ID: 'a', ISTHMUS_CABLE_DRIVER: 'ipsec' },
        /ISTHMUS_CABLE_DRIVER="ipsec"/,
      ],
      [['controller'], { ISTHMUS_CLUSTER_ID: 'a', METRICS_PORT: '80x' }, /METRICS_PORT="80x"/],
      [['agent'], { NODE_NAME: 'n', METRICS_PORT: '70000' }, /METRICS_PORT="70000"/],
      [['agent'], { NODE_NAME: 'n', LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
      [['agent'], { NODE_NAME: 'n', ISTHMUS_WIREGUARD_GO: 'yes' }, /ISTHMUS_WIREGUARD_GO="yes"/],
    ];
    for (const [argv, env, msg] of cases) {
      expect(() => parseCommand(argv, env, 'h')).toThrow(UsageError);
      expect(() => parseCommand(argv, env, 'h')).toThrow(msg);
    }
  });
});
