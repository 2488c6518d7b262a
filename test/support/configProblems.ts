import { parseSource } from '../../functions/config/loadSources.js';
import { ConfigError, type ConfigProblem } from '../../functions/errors.js';

/**
 * The problems `parseSource` reports for a source text, as `apilake validate` would list them.
 * @throws Error when the text is valid: a test that expects problems must not pass on none
 */
export function configProblems(text: string, file = 'sources/shop.yaml'): ConfigProblem[] {
  try {
    parseSource(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}
