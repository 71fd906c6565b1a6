import { describe, expect, it } from 'vitest';
import { createKeyedQueue } from './write';

/** A run function whose calls finish only when the test says so. */
function gated() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  let active = 0;
  let maxActive = 0;
  const run = (key: string, item: string) => {
    started.push(`${key}:${item}`);
    active++;
    maxActive = Math.max(maxActive, active);
    return new Promise<void>((resolve) => {
      gates.set(`${key}:${item}`, () => {
        active--;
        resolve();
      });
    });
  };
  const finish = async (id: string) => {
    const g = gates.get(id);
    if (!g) throw new Error(`${id} is not running`);
    gates.delete(id);
    g();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { run, started, finish, maxActive: () => maxActive };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('createKeyedQueue', () => {
  it('runs different keys concurrently up to the limit, and the rest as slots free up', async () => {
    const g = gated();
    const q = createKeyedQueue<string>({ concurrency: 2, run: g.run });
    q.push('a', '1');
    q.push('b', '1');
    q.push('c', '1');
    await settle();
    expect(g.started).toEqual(['a:1', 'b:1']);
    expect(q.size).toBe(3);
    expect(q.running).toBe(2);
    await g.finish('b:1');
    expect(g.started).toEqual(['a:1', 'b:1', 'c:1']);
    expect(g.maxActive()).toBe(2);
  });

  it('keeps one key in order and merges what waits behind a running write', async () => {
    const g = gated();
    const q = createKeyedQueue<string>({ concurrency: 4, run: g.run, merge: (w, n) => `${w}+${n}` });
    q.push('a', '1');
    await settle();
    q.push('a', '2');
    q.push('a', '3');
    q.push('b', '1');
    await settle();
    expect(g.started).toEqual(['a:1', 'b:1']);
    await g.finish('a:1');
    expect(g.started).toEqual(['a:1', 'b:1', 'a:2+3']);
  });

  it('merges items queued for one key before it starts, keeping the first position', async () => {
    const g = gated();
    const q = createKeyedQueue<string>({ concurrency: 1, run: g.run });
    q.push('x', '0');
    q.push('a', '1');
    q.push('b', '1');
    q.push('a', '2');
    await settle();
    await g.finish('x:0');
    expect(g.started).toEqual(['x:0', 'a:2']);
    await g.finish('a:2');
    expect(g.started).toEqual(['x:0', 'a:2', 'b:1']);
  });

  it('calls onIdle when the last item finishes, survives a rejecting run, and clear drops waiting items', async () => {
    let idle = 0;
    const ran: string[] = [];
    const q = createKeyedQueue<string>({
      concurrency: 1,
      run: async (key, item) => {
        ran.push(`${key}:${item}`);
        if (item === 'bad') throw new Error('boom');
      },
      onIdle: () => idle++,
    });
    q.push('a', 'bad');
    q.push('b', '1');
    q.push('c', '1');
    q.clear();
    await settle();
    await settle();
    expect(ran).toEqual(['a:bad']);
    expect(q.size).toBe(0);
    expect(idle).toBe(1);
    q.push('d', '1');
    await settle();
    await settle();
    expect(ran).toEqual(['a:bad', 'd:1']);
    expect(idle).toBe(2);
  });
});
