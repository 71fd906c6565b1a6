import { spawn } from 'node:child_process';

/** What a command printed and how it ended. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one command (never through a shell) with `input` on stdin. The agent does all its kernel I/O
 * through one of these, so the same agent drives a host or a network namespace.
 */
export type CommandRunner = (
  cmd: string,
  args: readonly string[],
  opts?: { readonly input?: string },
) => Promise<CommandResult>;

export interface ExecRunnerOptions {
  /** Run every command inside this named network namespace (`ip netns exec <netns> ...`). */
  readonly netns?: string;
  /** Milliseconds before a command is killed; default 30 s. */
  readonly timeoutMs?: number;
}

/** The argv that runs `cmd args` on the host, or inside a named network namespace. */
export function commandLine(cmd: string, args: readonly string[], netns?: string): [string, string[]] {
  return netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** A runner that spawns real processes: on the host, or inside `netns`. */
export function createExecRunner(opts: ExecRunnerOptions = {}): CommandRunner {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return (cmd, args, runOpts) =>
    new Promise((resolve, reject) => {
      const [file, argv] = commandLine(cmd, args, opts.netns);
      const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
      child.stdin.on('error', () => {}); // the command may exit before reading its input
      child.stdin.end(runOpts?.input ?? '');
    });
}
