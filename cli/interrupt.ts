/**
 * Stop signals, handled alike by every long-running command: Ctrl-C (SIGINT), SIGTERM (what
 * containers, systemd and CI runners send) and SIGHUP (the terminal closed). The first stops
 * cleanly: no new work starts, work in flight stops between pages and removes what it wrote, and
 * the command prints its summary and exits 128 + the signal's number, as a shell reports a
 * process a signal ended. A second signal quits at once.
 */

import { TerminalOutput } from './terminal/TerminalOutput.js';

/** The signals that stop a command, and their numbers (the same on Linux and macOS). */
export const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** A signal that stops a command. */
export type StopSignal = keyof typeof STOP_SIGNALS;

/** The exit code of a command that `signal` stopped: 128 + its number (129, 130, 143). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + STOP_SIGNALS[signal];
}

/** A command's handling of stop signals, from {@link interruptSignal}. */
export interface Interrupt {
  /** Aborts (with the reason `interrupted`) on the first stop signal. */
  readonly signal: AbortSignal;
  /** The first stop signal received, if one came. */
  readonly stoppedBy: StopSignal | undefined;
  /**
   * Removes the handlers, so a signal after this ends the process the default way; once a signal
   * came they stay, and the next one still quits at once with its exit code.
   */
  dispose(): void;
}

/**
 * Handles SIGINT, SIGTERM and SIGHUP until disposed.
 * @param message what stopping cleanly does, for the line printed on the first signal
 */
export function interruptSignal(message: string): Interrupt {
  const controller = new AbortController();
  const stderr = new TerminalOutput(process.stderr);
  let stoppedBy: StopSignal | undefined;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const handler = () => {
      if (stoppedBy) process.exit(signalExitCode(name));
      stoppedBy = name;
      // A closed terminal fails every write to it; the clean-up must still run to the end.
      if (name === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      // The newline ends a progress line the terminal may be showing (with its echoed ^C).
      process.stderr.write('\n');
      stderr.line(name === 'SIGINT' ? `interrupted: ${message}; Ctrl-C again to quit at once` : `interrupted by ${name}: ${message}; a second signal quits at once`);
      controller.abort('interrupted');
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    get stoppedBy() {
      return stoppedBy;
    },
    dispose: () => {
      if (stoppedBy) return;
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
