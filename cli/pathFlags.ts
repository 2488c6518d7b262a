/** The folders commands read when not told otherwise, and flags that name others in a suggested command. */

import { resolve } from 'node:path';

/** Where `--sources` points when not given. */
export const DEFAULT_SOURCES_DIR = './sources';
/** Where `--lake` points when not given. */
export const DEFAULT_LAKE_DIR = './lake';

/**
 * ` --<flag> <path>` for a suggested command, or nothing when `path` is where the flag points
 * anyway, so the command works as printed from the same folder.
 */
export function pathFlag(flag: string, path: string, fallback: string): string {
  return resolve(path) === resolve(fallback) ? '' : ` --${flag} ${shellWord(path)}`;
}

/** `text` as one shell word: quoted when it holds anything but safe characters. */
export function shellWord(text: string): string {
  return /^[\w./@:+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
