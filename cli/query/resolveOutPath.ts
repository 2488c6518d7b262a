/**
 * Where `apilake query --out FILE` may write. A query result never lands inside the lake folder
 * (it could replace a committed manifest or data file), never replaces a file unless `--force`
 * says so, and never replaces a folder or anything that is not a regular file (a device such as
 * /dev/stdout would be replaced by the final rename, not written to).
 */

import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { InputError } from '../../functions/index.js';

/** Options of {@link resolveOutPath}. */
export interface OutPathOptions {
  /** The lake folder (`--lake`), which the output must stay out of. */
  readonly lakeDir: string;
  /** Replace an existing file. @default false */
  readonly force?: boolean;
}

/**
 * The absolute path to write, with its folder's symbolic links and `..` resolved: the same path
 * is checked here and written later.
 * @throws InputError when the path is inside the lake, is a folder, its folder does not exist, or
 *   it exists and `force` is not set
 */
export async function resolveOutPath(file: string, options: OutPathOptions): Promise<string> {
  const given = resolve(file);
  let folder: string;
  try {
    folder = await realpath(dirname(given));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`--out ${file}: the folder ${dirname(given)} does not exist`, { cause: error });
    throw error;
  }
  const target = join(folder, basename(given));
  const existing = await lstat(target).catch(ignoreMissing);
  // A link there is replaced, not written through; still, one into the lake says the path is wrong.
  const pointsTo = existing?.isSymbolicLink() ? await linkTarget(target) : target;
  const lake = await realpath(resolve(options.lakeDir)).catch(() => resolve(options.lakeDir));
  if ([target, pointsTo].some((path) => path === lake || path.startsWith(lake + sep))) {
    throw new InputError(`--out ${file} is inside the lake folder ${options.lakeDir}, where it could replace what the lake committed; write the result outside it`);
  }
  const resolved = existing && (await stat(target).catch(ignoreMissing));
  if (existing?.isDirectory() || resolved?.isDirectory()) throw new InputError(`--out ${file} is a folder; name the file to write`);
  // A device, pipe or socket (/dev/stdout) would be replaced by the rename, not written to.
  if (resolved && !resolved.isFile()) throw new InputError(`--out ${file} is not a regular file; to print the result, leave out --out`);
  if (existing && !options.force) throw new InputError(`--out ${file} exists; add --force to replace it`);
  return target;
}

/** Where a symbolic link leads, resolved as far as it exists. */
async function linkTarget(link: string): Promise<string> {
  try {
    return await realpath(link);
  } catch {
    // Dangling: where it would create the file.
    const to = resolve(dirname(link), await readlink(link));
    const folder = await realpath(dirname(to)).catch(() => dirname(to));
    return join(folder, basename(to));
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}
