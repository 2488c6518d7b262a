/**
 * The format of streams that say none. Its own module, free of the schema library, because the
 * body reader in the function bundle needs the default too.
 */
import type { FormatConfig } from './formatSchema.js';

/** The format of streams that say none. */
export const JSON_FORMAT: FormatConfig = { type: 'json' };
