/** What a user can do about an error, carried in its context so every ApilakeError can hold one. */

import { ApilakeError, InputError } from '../../functions/index.js';

/** The hint of an error, when it has one. */
export function hintOf(error: unknown): string | undefined {
  const hint = error instanceof ApilakeError ? error.context.hint : undefined;
  return typeof hint === 'string' ? hint : undefined;
}

/** An {@link InputError} (exit 2) whose message says what was wrong and whose hint says what to do. */
export function inputError(message: string, hint: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}): InputError {
  return new InputError(message, { cause: options.cause, context: { ...options.context, hint } });
}
