/**
 * The local lake a reading command opens (`status`, `gc`, `schema suggest`) must be a folder
 * that exists: read as an empty lake, a mistyped `--lake` would report "nothing committed" or
 * remove nothing, and look like a lake that never landed. `query` may run SQL that reads no table
 * of the lake, so for it only a `--lake` that is not a folder is an error.
 */

import { stat } from 'node:fs/promises';
import { inputError } from './errors/hint.js';

/** Options of {@link checkLakeFolder}. */
export interface LakeFolderOptions {
  /**
   * A missing folder reads as an empty lake (`query`, whose SQL may read no table of the lake).
   * @default false
   */
  readonly mayBeMissing?: boolean;
}

/**
 * Checks that `path` is a folder that exists (or, with `mayBeMissing`, nothing at all).
 * @throws InputError (exit 2) saying what `--lake` names instead
 */
export async function checkLakeFolder(path: string, options: LakeFolderOptions = {}): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    if (info.code === 'ENOENT' && options.mayBeMissing) return;
    if (info.code === 'ENOENT' || info.code === 'ENOTDIR') {
      throw inputError(`--lake ${path}: no such folder`, 'nothing has landed there: apilake run lands a source into --lake (default ./lake), or --lake names the lake to read', { cause: info });
    }
    throw inputError(`--lake ${path} cannot be read (${info.code ?? info.message})`, 'check the folder and its permissions', { cause: info });
  }
  if (!info.isDirectory()) throw inputError(`--lake ${path} is not a folder`, '--lake names the folder of a local lake (default ./lake)');
}
