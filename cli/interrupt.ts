/** Ctrl-C handling shared by long-running commands: the first stops cleanly, the second quits. */

import { TerminalOutput } from './terminal/TerminalOutput.js';

/** An AbortSignal that fires on the first SIGINT; `dispose` removes the handler. */
export function interruptSignal(message: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stderr = new TerminalOutput(process.stderr);
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    // The newline ends a progress line the terminal may be showing (with its echoed ^C).
    process.stderr.write('\n');
    stderr.line(`interrupted: ${message}; Ctrl-C again to quit at once`);
    controller.abort('interrupted');
  };
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onInterrupt) };
}
