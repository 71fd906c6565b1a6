// pnpm demo: two clusters with overlapping pod and service CIDRs, joined by isthmus plans alone.
// Prints the plan (tables, or --json); as root with --apply builds it in network namespaces, runs
// the connectivity matrix, the MTU check and a gateway failover, and tears everything down.

import { planScenario } from '../../e2e/scenario';
import type { Need } from '../../testing/netns';
import { createApplySession } from './apply';
import { type DemoOptions, parseArgs, USAGE, UsageError } from './args';
import { renderFailoverText, renderMatrixText, renderMtuText, renderPlanText } from './format';
import { type ApplyResults, demoDocument, renderJson } from './json';
import { planView } from './plan-view';
import { progressLine } from './progress';
import { assertNoSecrets, redactSecrets, secretsOf } from './redact';

const EXIT_USAGE = 2;

function variant(o: DemoOptions): string {
  return `--driver ${o.driver} --mode ${o.mode}${o.json ? ' --json' : ''}`;
}

function printPlan(o: DemoOptions): number {
  const s = planScenario({ driver: o.driver, mode: o.mode });
  const view = planView(s);
  const text = o.json
    ? renderJson(demoDocument(s, view, null))
    : `${renderPlanText(view)}\nPlan only: nothing was changed. As root, \`pnpm demo --apply ${variant(o)}\` builds it in network namespaces and tests it.\n`;
  process.stdout.write(assertNoSecrets(text, secretsOf(s)));
  return 0;
}

/** Why --apply cannot run here (not root, a missing tool), or null. */
async function applyBlocker(o: DemoOptions): Promise<string | null> {
  const again = `pnpm demo --apply ${variant(o)}`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return [
      '--apply needs root: it creates network namespaces, veth pairs, VXLAN devices and nftables rules.',
      `  as root:          sudo env "PATH=$PATH" ${again}`,
      `  or the plan only: pnpm demo ${variant(o)}`,
    ].join('\n');
  const { missing } = await import('../../testing/netns');
  const needs: Need[] = ['root', 'netns', 'veth', 'vxlan', 'nft', 'iptables', 'ping'];
  if (o.driver === 'wireguard' && o.mode === 'gateway') needs.push('wireguard-go', 'wg');
  const gaps = missing(needs);
  return gaps.length === 0 ? null : `--apply cannot run here:\n${gaps.map((g) => `  ${g}`).join('\n')}`;
}

function resultsText(r: ApplyResults, mode: DemoOptions['mode']): string {
  const parts = [`Built in namespaces ${r.lab}-*, all removed afterwards.`];
  if (r.matrix.length > 0) parts.push(renderMatrixText(r.matrix));
  if (r.mtu !== null) parts.push(renderMtuText(r.mtu));
  if (r.failover !== null) parts.push(renderFailoverText(r.failover));
  else if (mode === 'p2p') parts.push('Failover: not part of P2P mode (no gateway on the path).');
  const times = Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  parts.push(`Timings: ${times.join(' · ')}`);
  const why = r.error === null ? '' : ` (${r.error.split('\n')[0]}; details on stderr)`;
  parts.push(r.passed ? 'Result: all checks passed.' : `Result: FAILED${why}`);
  return `${parts.join('\n\n')}\n`;
}

async function applyDemo(o: DemoOptions): Promise<number> {
  const blocker = await applyBlocker(o);
  if (blocker !== null) {
    process.stderr.write(`demo: ${blocker}\n`);
    return EXIT_USAGE;
  }
  const progress = progressLine(process.stderr);
  progress.step('loading');
  const session = await createApplySession(o, progress);
  let stopping = false;
  // Ctrl-C / SIGTERM: tear down what exists so far, then exit with the signal's conventional code.
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write('demo: still tearing down\n');
      return;
    }
    stopping = true;
    progress.clear();
    process.stderr.write(`\ndemo: ${signal}: tearing down\n`);
    const code = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
    session
      .teardown()
      .catch((e) =>
        process.stderr.write(
          `demo: teardown: ${redactSecrets(e instanceof Error ? e.message : String(e), secretsOf(session.scenario))}\n`,
        ),
      )
      .finally(() => process.exit(code));
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  const ran = await session.run();
  if (stopping) return new Promise<number>(() => {}); // the signal handler exits
  const secrets = secretsOf(session.scenario);
  // A failing step's message may quote a command or a config file: shown, but with keys redacted.
  const results = { ...ran, error: ran.error === null ? null : redactSecrets(ran.error, secrets) };
  const view = planView(session.scenario);
  const text = o.json
    ? renderJson(demoDocument(session.scenario, view, results))
    : `${renderPlanText(view, true)}\n${resultsText(results, o.mode)}`;
  process.stdout.write(assertNoSecrets(text, secrets));
  if (results.error !== null) process.stderr.write(`demo: ${results.error}\n`);
  return results.passed ? 0 : 1;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`demo: ${e.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return options.apply ? applyDemo(options) : printPlan(options);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
