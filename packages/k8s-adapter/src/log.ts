/** Structured logging: one JSON object per line, with a level, a time, a message and fields. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where each line goes (without the newline); default: process.stderr. */
  readonly sink?: (line: string) => void;
  readonly fields?: Record<string, unknown>;
  /** The time stamp of a line; default: the wall clock. */
  readonly now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Field names whose values are secrets: they are replaced, whatever the caller passes.
const SECRET_KEY =
  /(^|[-_])(token|password|passwd|secret|privatekey|private_key|psk|authorization|bearer)($|[-_])/i;

function redact(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  if (typeof value === 'bigint') return value.toString();
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) || /privateKey|secretKey/.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

/** A JSON-lines logger. Fields named like secrets (token, password, privateKey, psk, ...) print as "[redacted]". */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const sink = opts.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const make = (base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (RANK[level] < min) return;
      const merged = redact({ ...base, ...fields }, 0) as Record<string, unknown>;
      let line: string;
      try {
        line = JSON.stringify({ time: now().toISOString(), level, msg, ...merged });
      } catch {
        line = JSON.stringify({ time: now().toISOString(), level, msg, fields: '[unserialisable]' });
      }
      sink(line);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({ ...opts.fields });
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger({ sink: () => {}, level: 'error' });
