import { describe, expect, it } from 'vitest';
import { createLogger } from './log';

describe('createLogger', () => {
  const fixed = () => new Date('2026-01-01T00:00:00Z');

  it('writes one JSON object per line with time, level, message and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), now: fixed, fields: { app: 'x' } });
    log.info('hello', { n: 1 });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: '2026-01-01T00:00:00.000Z', level: 'info', msg: 'hello', app: 'x', n: 1 },
    ]);
  });

  it('drops lines below the level; child loggers add their fields', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), level: 'warn', now: fixed });
    log.info('no');
    log.child({ part: 'a' }).warn('yes');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: '2026-01-01T00:00:00.000Z', level: 'warn', msg: 'yes', part: 'a' },
    ]);
  });

  it('never prints a secret: token, password, privateKey and psk fields are redacted, at any depth', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    log.error('x', {
      token: 'tok-123',
      user: { password: 'pw-456', name: 'u' },
      cable: { privateKey: 'pk-789', psk: 'psk-0' },
    });
    const text = lines.join('\n');
    for (const secret of ['tok-123', 'pw-456', 'pk-789', 'psk-0']) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0] ?? '{}').user.name).toBe('u');
  });

  it('prints errors as their message and code, and bigints as text', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    const e = Object.assign(new Error('boom'), { code: 'X' });
    log.warn('w', { error: e, n: 5n });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ error: { message: 'boom', code: 'X' }, n: '5' });
  });
});
