import { isLosslessNumber } from 'lossless-json';

/**
 * A value as expressions hand it on: a number kept exact (a lossless-json `LosslessNumber`, for
 * numbers a float would change) becomes its exact text, so a cursor or a key keeps every digit;
 * anything else is unchanged.
 */
export function plainValue(value: unknown): unknown {
  return isLosslessNumber(value) ? value.toString() : value;
}
