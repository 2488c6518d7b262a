import { describe, expect, it } from 'vitest';
import { SinkError } from '../../functions/errors.js';
import { ParquetFileGuard } from '../../functions/tables/ParquetFileGuard.js';

function guarded() {
  const told: Error[] = [];
  return { told, guard: new ParquetFileGuard('shop_orders', (failure) => told.push(failure)) };
}

describe('ParquetFileGuard', () => {
  it('refuses a call while another runs, and takes the next once it has ended', async () => {
    const { guard } = guarded();
    let finish!: () => void;
    const first = guard.call(() => new Promise<string>((resolve) => (finish = () => resolve('first'))));
    await expect(guard.call(() => Promise.resolve('second'))).rejects.toThrow('concurrent call on the Parquet file of shop_orders: await each writePage before the next');
    expect(guard.busy).toBe(true);
    finish();
    await expect(first).resolves.toBe('first');
    await expect(guard.call(() => Promise.resolve('third'))).resolves.toBe('third');
  });

  it('keeps the first failure: later calls fail with it, and whoever waits is told once', async () => {
    const { guard, told } = guarded();
    const first = new SinkError('cannot encode a row group of shop_orders: boom');
    expect(guard.fail(first)).toBe(first);
    expect(guard.fail(new Error('the output closed'))).toBe(first);
    expect(told).toEqual([first]);
    expect(() => guard.check()).toThrow(first);
    await expect(guard.call(() => Promise.resolve())).rejects.toBe(first);
  });

  it.each([
    ['closed', (guard: ParquetFileGuard) => guard.close(), 'the Parquet file of shop_orders is already closed'],
    ['aborted', (guard: ParquetFileGuard) => guard.abort(new Error('interrupted')), 'interrupted'],
  ])('refuses every call once the file is %s', async (_state, end, message) => {
    const { guard } = guarded();
    end(guard);
    expect(guard.isClosed).toBe(true);
    await expect(guard.call(() => Promise.resolve())).rejects.toThrow(message);
  });

  it('frees the file and runs `after` when a call fails', async () => {
    const { guard } = guarded();
    let after = 0;
    await expect(
      guard.call(
        () => Promise.reject(new Error('bad page')),
        () => after++,
      ),
    ).rejects.toThrow('bad page');
    expect(after).toBe(1);
    expect(guard.busy).toBe(false);
  });
});
