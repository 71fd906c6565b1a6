// A small aligned-text table for terminal output (no dependency): headers, a rule, padded columns.

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Alignment per column (default left). */
  readonly align?: readonly Align[];
  /** Prefix of every line (default two spaces, so tables sit under their heading). */
  readonly indent?: string;
}

/** Display width of a cell: code points, so a "→" counts as one column. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Formats rows under headers; short rows get empty cells, trailing spaces are trimmed. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const indent = options.indent ?? '  ';
  const cols = Math.max(headers.length, ...rows.map((r) => r.length));
  const cell = (r: readonly string[], i: number) => r[i] ?? '';
  const widths = Array.from({ length: cols }, (_, i) =>
    Math.max(width(cell(headers, i)), ...rows.map((r) => width(cell(r, i)))),
  );
  const line = (r: readonly string[]) =>
    (indent + widths.map((w, i) => pad(cell(r, i), w, options.align?.[i] ?? 'left')).join('  ')).trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}
