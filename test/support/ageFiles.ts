import { readdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Makes files look older to storage's clock: moves the mtime (and atime) of every file under
 * `dir` that `select` accepts, hidden temp files included, `ms` into the past — what hours
 * passing at the storage would do, without waiting. The clock probe written later reads the
 * real now, so to the lake these files are `ms` older.
 * @returns the paths aged
 */
export async function ageFiles(dir: string, ms: number, select: (path: string) => boolean = () => true): Promise<string[]> {
  const aged: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && select(path)) {
        const info = await stat(path).catch(() => undefined);
        if (!info) continue; // renamed or removed meanwhile
        const when = new Date(info.mtimeMs - ms);
        await utimes(path, when, when).catch(() => undefined);
        aged.push(path);
      }
    }
  };
  await walk(dir);
  return aged;
}
