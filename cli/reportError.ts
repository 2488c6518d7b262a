/** How the CLI turns an error into a message, a hint and an exit code. */

import { ApilakeError, ConfigError, InputError, SecretError } from '../functions/index.js';
import { explainAwsError } from './errors/explainAwsError.js';
import { EXIT } from './exitCodes.js';
import { hintOf, inputError } from './errors/hint.js';

export { EXIT } from './exitCodes.js';

/** The exit code an error ends the CLI with. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof InputError || error instanceof SecretError) return EXIT.badInput;
  if (error instanceof ApilakeError) return EXIT.windowsFailed;
  return EXIT.unexpected;
}

/**
 * The error as the user should see it. An AWS SDK error about the caller's set-up (region,
 * credentials, permissions, a resource that does not exist) is explained, also when the engine
 * wrapped it (a SinkError whose cause it is): it is a configuration problem, exit 2.
 */
export function explain(error: unknown): unknown {
  if (error instanceof ConfigError || error instanceof InputError || error instanceof SecretError) return error;
  if (error instanceof ApilakeError) {
    const cause = explainAwsError(error.cause);
    return cause ? inputError(error.message, hintOf(cause)!, { cause: error }) : error;
  }
  return explainAwsError(error) ?? error;
}

/**
 * Prints an error and exits. Expected errors print their message and hint, never a stack; an
 * unexpected one prints its stack only when APILAKE_DEBUG=1.
 */
export function reportAndExit(error: unknown): never {
  const known = explain(error);
  if (known instanceof ApilakeError) {
    const hint = hintOf(known);
    process.stderr.write(`apilake: ${known.message}\n${hint ? `  hint: ${hint}\n` : ''}`);
    if (process.env.APILAKE_DEBUG === '1' && known.stack) process.stderr.write(`${known.stack}\n`);
    process.exit(exitCodeFor(known));
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const detail =
    process.env.APILAKE_DEBUG === '1' && error instanceof Error ? `\n${error.stack}` : '\n  hint: this is a bug in apilake; run again with APILAKE_DEBUG=1 for the stack trace and report it';
  process.stderr.write(`apilake: unexpected error: ${message}${detail}\n`);
  process.exit(EXIT.unexpected);
}
