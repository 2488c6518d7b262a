/** How the CLI turns an error into a message and an exit code. */

import { ApilakeError, ConfigError, InputError } from '../functions/errors.js';

/** Exit codes: 1 when some window failed, 2 for bad input or configuration, 3 for anything unexpected. */
export const EXIT = { ok: 0, windowsFailed: 1, badInput: 2, unexpected: 3 } as const;

/** Prints an error without a stack for expected failures and exits. */
export function reportAndExit(error: unknown): never {
  if (error instanceof ConfigError || error instanceof InputError) {
    process.stderr.write(`apilake: ${error.message}\n`);
    process.exit(EXIT.badInput);
  }
  if (error instanceof ApilakeError) {
    process.stderr.write(`apilake: ${error.message}\n`);
    process.exit(EXIT.windowsFailed);
  }
  process.stderr.write(`apilake: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT.unexpected);
}
