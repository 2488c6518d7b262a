/**
 * Exit codes of the `apilake` command (documented in docs/cli.md): 0 ok; 1 a window failed, a
 * redrive kept messages, or `status` found a problem; 2 invalid input or configuration
 * (arguments, source files, secrets, AWS set-up); 3 an unexpected error, a bug. A command that a
 * signal stopped exits 128 + its number (`signalExitCode` in interrupt.ts): 130 Ctrl-C, 143
 * SIGTERM, 129 SIGHUP.
 */
export const EXIT = { ok: 0, windowsFailed: 1, badInput: 2, unexpected: 3, interrupted: 130 } as const;
