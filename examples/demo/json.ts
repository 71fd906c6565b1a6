// The --json document: the same rows as the tables plus the full plans, secrets redacted.
import type { FailoverResult, MatrixRow, MtuResult } from '../../e2e/kernel';
import type { Scenario } from '../../e2e/scenario';
import type { PlanView } from './plan-view';
import { redactingReplacer } from './redact';

export interface ApplyResults {
  readonly passed: boolean;
  /** The namespaces' common prefix (`isx-<pid>-demo-xxxx`); all gone when the run returns. */
  readonly lab: string;
  readonly matrix: readonly MatrixRow[];
  readonly mtu: (MtuResult & { readonly passed: boolean }) | null;
  /** Null in P2P mode (no gateway on the path). */
  readonly failover: Omit<FailoverResult, 'change'> | null;
  /** Seconds spent per phase. */
  readonly timings: Readonly<Record<string, number>>;
  /** What went wrong outside the checks (a build step that failed), if anything. */
  readonly error: string | null;
}

export function demoDocument(s: Scenario, view: PlanView, results: ApplyResults | null): object {
  return {
    demo: 'isthmus two-cluster',
    version: 1,
    applied: results !== null,
    ...view,
    plans: {
      underlay: s.underlay,
      nodes: s.nodes,
      pods: s.pods.map((p) => ({
        name: p.name,
        cluster: p.cluster,
        node: p.node,
        ip: p.ip,
        globalIp: p.globalIp,
        nics: p.nics,
        plan: p.plan,
      })),
      endpoints: s.endpoints,
      wgNames: s.wgNames,
    },
    ...(results === null ? {} : { results }),
  };
}

export function renderJson(doc: object): string {
  return `${JSON.stringify(doc, redactingReplacer, 2)}\n`;
}
