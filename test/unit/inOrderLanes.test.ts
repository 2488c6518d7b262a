import { describe, expect, it } from 'vitest';
import { inOrderLanes } from '../../functions/engine/inOrderLanes.js';

/** A gate per (lane, item): items are produced only when the test releases them, so timing never decides. */
function harness(sizes: Record<string, number>) {
  const started: string[] = [];
  const produced: string[] = [];
  const closed: string[] = [];
  const gates = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const gate = (id: string) => {
    if (!waiting.has(id)) waiting.set(id, new Promise<void>((resolve) => gates.set(id, resolve)));
    return waiting.get(id)!;
  };
  const release = (id: string) => {
    void gate(id); // made now if no lane waits on it yet, so it opens before anyone does
    gates.get(id)!();
  };
  async function* lane(key: string): AsyncGenerator<string> {
    started.push(key);
    try {
      for (let i = 0; i < sizes[key]!; i++) {
        await gate(`${key}${i}`);
        produced.push(`${key}${i}`);
        yield `${key}${i}`;
      }
    } finally {
      closed.push(key);
    }
  }
  // eslint-disable-next-line @typescript-eslint/require-await -- every key is there at once: only the gates decide the timing
  async function* keys(): AsyncGenerator<string> {
    yield* Object.keys(sizes);
  }
  return { started, produced, closed, release, lane, keys };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('inOrderLanes', () => {
  it('yields lane after lane in key order, whatever order items are produced in', async () => {
    const h = harness({ a: 2, b: 0, c: 3, d: 1 });
    // Later lanes produce first.
    for (const id of ['d0', 'c2', 'c1', 'c0', 'a1', 'a0']) h.release(id);
    const out: string[] = [];
    for await (const item of inOrderLanes(h.keys(), 3, h.lane)) out.push(item);
    expect(out).toEqual(['a0', 'a1', 'c0', 'c1', 'c2', 'd0']);
    expect(h.closed.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts at most `width` lanes, and a lane that is not the head holds at most one item', async () => {
    const h = harness({ a: 3, b: 3, c: 3, d: 3 });
    const it = inOrderLanes(h.keys(), 2, h.lane)[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    expect(h.started).toEqual(['a', 'b']);
    for (const id of ['b0', 'b1', 'b2']) h.release(id);
    await tick();
    // b runs one item ahead and then waits to become the head.
    expect(h.produced).toEqual(['b0']);
    h.release('a0');
    expect((await first).value).toBe('a0');
    await tick();
    expect(h.produced).toEqual(['b0', 'a0']);
    h.release('a1');
    h.release('a2');
    const rest: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) {
      rest.push(r.value);
      if (r.value === 'b2') for (const id of ['c0', 'c1', 'c2', 'd0', 'd1', 'd2']) h.release(id);
    }
    expect(rest).toEqual(['a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2', 'd0', 'd1', 'd2']);
  });

  it('holds at most width + 1 items produced and not yet consumed', async () => {
    const sizes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}:`, 10]));
    const h = harness(sizes);
    for (const key of Object.keys(sizes)) for (let i = 0; i < 10; i++) h.release(`${key}${i}`);
    let consumed = 0;
    let most = 0;
    for await (const _item of inOrderLanes(h.keys(), 4, h.lane)) {
      consumed++;
      await tick();
      most = Math.max(most, h.produced.length - consumed);
    }
    expect(consumed).toBe(200);
    expect(most).toBeLessThanOrEqual(4 + 1);
  });

  it('fails at once when any lane fails, not when it reaches the head, and closes the others', async () => {
    const h = harness({ a: 2, b: 1 });
    async function* lane(key: string): AsyncGenerator<string> {
      if (key === 'b') throw new Error('b broke');
      yield* h.lane(key);
    }
    const out: string[] = [];
    await expect(
      (async () => {
        for await (const item of inOrderLanes(h.keys(), 2, lane)) out.push(item);
      })(),
    ).rejects.toThrow('b broke');
    expect(out).toEqual([]); // a never released: the failure of b did not wait for it
    h.release('a0');
    for (let i = 0; i < 5; i++) await tick();
    expect(h.closed).toEqual(['a']);
  });

  it('closes open lanes when the consumer stops early', async () => {
    const h = harness({ a: 3, b: 3 });
    for (const id of ['a0', 'a1', 'a2', 'b0', 'b1', 'b2']) h.release(id);
    for await (const item of inOrderLanes(h.keys(), 2, h.lane)) if (item === 'a0') break;
    await tick();
    expect(h.closed.sort()).toEqual(['a', 'b']);
    expect(h.produced.length).toBeLessThanOrEqual(3);
  });

  it('fails when the keys fail', async () => {
    // eslint-disable-next-line @typescript-eslint/require-await -- the keys fail right after the first, with nothing to wait for
    async function* keys(): AsyncGenerator<string> {
      yield 'a';
      throw new Error('parent page 2 failed');
    }
    const h = harness({ a: 1 });
    h.release('a0');
    await expect(
      (async () => {
        for await (const _ of inOrderLanes(keys(), 1, h.lane)) void _;
      })(),
    ).rejects.toThrow('parent page 2 failed');
  });
});
