import { afterEach, describe, expect, it, vi } from 'vitest';
import { interruptSignal, signalExitCode } from '../../cli/interrupt.js';

describe('signalExitCode', () => {
  it.each([
    ['SIGHUP', 129],
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s → %i', (signal, code) => expect(signalExitCode(signal)).toBe(code));
});

describe('interruptSignal', () => {
  const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const;
  const listeners = () => SIGNALS.map((s) => process.listenerCount(s));
  const before = listeners();
  const theirs = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  afterEach(() => {
    vi.restoreAllMocks();
    // Only the handlers a test left behind: the test runner's own stay.
    for (const s of SIGNALS) for (const listener of process.listeners(s)) if (!theirs.get(s)!.includes(listener)) process.off(s, listener);
  });

  it.each(['SIGHUP', 'SIGINT', 'SIGTERM'] as const)('stops on %s: aborts, says which signal, and quits at once on the next one with its code', (signal) => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const interrupt = interruptSignal('finishing');
    expect(interrupt.signal.aborted).toBe(false);
    process.emit(signal, signal);
    expect(interrupt.signal.aborted).toBe(true);
    expect(interrupt.signal.reason).toBe('interrupted');
    expect(interrupt.stoppedBy).toBe(signal);
    expect(exit).not.toHaveBeenCalled();
    // Disposed after a signal, the handlers stay: the next signal still quits with its code.
    interrupt.dispose();
    process.emit('SIGTERM', 'SIGTERM');
    expect(exit).toHaveBeenCalledWith(143);
  });

  it('removes its handlers when disposed before any signal', () => {
    const interrupt = interruptSignal('finishing');
    expect(listeners()).toEqual(before.map((n) => n + 1));
    interrupt.dispose();
    expect(listeners()).toEqual(before);
    expect(interrupt.stoppedBy).toBeUndefined();
  });
});
