// The progress line on stderr: one line rewritten in place on a terminal, plain lines otherwise.

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressLine {
  /** Shows the step now running (with the time since start). */
  step(text: string): void;
  /** Removes the rewritten line (terminal) so the next output starts clean. */
  clear(): void;
}

export function progressLine(out: ProgressOutput, now: () => number = Date.now): ProgressLine {
  const start = now();
  const tty = out.isTTY === true;
  let current: string | null = null;
  let ticker: ReturnType<typeof setInterval> | null = null;
  const stamp = () => `[${((now() - start) / 1000).toFixed(1).padStart(5)} s]`;
  const draw = () => {
    if (current !== null) out.write(`\r\x1b[2K${stamp()} ${current} …`);
  };
  return {
    step(text) {
      current = text;
      if (!tty) {
        out.write(`${stamp()} ${text}\n`);
        return;
      }
      draw();
      // Keep the clock moving during long steps; unref so it never holds the process open.
      ticker ??= setInterval(draw, 250);
      ticker.unref?.();
    },
    clear() {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      if (tty && current !== null) out.write('\r\x1b[2K');
      current = null;
    },
  };
}
