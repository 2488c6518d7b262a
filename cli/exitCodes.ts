/**
 * Exit codes of the `apilake` command (documented in docs/cli.md): 0 ok; 1 a window failed or
 * was interrupted, a redrive kept messages, or `status` found a problem; 2 invalid input or
 * configuration (arguments, source files, secrets, AWS set-up); 3 an unexpected error, a bug.
 */
export const EXIT = { ok: 0, windowsFailed: 1, badInput: 2, unexpected: 3 } as const;
