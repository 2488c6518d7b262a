/** Ctrl-C handling shared by long-running commands: the first stops cleanly, the second quits. */

/** An AbortSignal that fires on the first SIGINT; `dispose` removes the handler. */
export function interruptSignal(message: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\ninterrupted: ${message}; Ctrl-C again to quit at once\n`);
    controller.abort('interrupted');
  };
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onInterrupt) };
}
