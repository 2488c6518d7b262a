/**
 * The local lake a reading command opens (`status`, `schema suggest`) must be a folder that
 * exists: read as an empty lake, a mistyped `--lake` would report "nothing committed" and look
 * like a lake that never landed. `query` may run SQL that reads no table of the lake, and `gc` may
 * run (from a schedule) before a first run made the lake, so for them a missing folder is an empty
 * lake, which they say; a `--lake` that is not a folder is an error for every command.
 */

import { stat } from 'node:fs/promises';
import { inputError } from './errors/hint.js';

/** Options of {@link checkLakeFolder}. */
export interface LakeFolderOptions {
  /**
   * A missing folder reads as an empty lake (`query`, `gc`).
   * @default false
   */
  readonly mayBeMissing?: boolean;
}

/**
 * Checks that `path` is a folder that exists (or, with `mayBeMissing`, nothing at all).
 * @returns whether the folder exists
 * @throws InputError (exit 2) saying what `--lake` names instead
 */
export async function checkLakeFolder(path: string, options: LakeFolderOptions = {}): Promise<boolean> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    if (info.code === 'ENOENT' && options.mayBeMissing) return false;
    if (info.code === 'ENOENT' || info.code === 'ENOTDIR') {
      throw inputError(`--lake ${path}: no such folder`, 'nothing has landed there: apilake run lands a source into --lake (default ./lake), or --lake names the lake to read', { cause: info });
    }
    throw inputError(`--lake ${path} cannot be read (${info.code ?? info.message})`, 'check the folder and its permissions', { cause: info });
  }
  if (!info.isDirectory()) throw inputError(`--lake ${path} is not a folder`, '--lake names the folder of a local lake (default ./lake)');
  return true;
}
