/**
 * Builds the `apilake` CLI from TypeScript into `dist/cli/` with esbuild.
 *
 * Why a build: compiling TypeScript at every start (tsx) cost 0.4–1.8 s per command. The bundle
 * is split per command (each command is a dynamic import, hence its own chunk) and leaves npm
 * packages external, so `apilake --help` loads neither DuckDB nor the AWS SDK. Commander, which
 * every start needs, is bundled into the entry: one module to load instead of eight.
 *
 * Why it cannot go stale: `dist/cli/build.json` records the size and mtime of every file the
 * bundle was built from (esbuild's metafile inputs, package.json for the version, and this
 * script). `bin/apilake.mjs` checks them on each start (a few dozen `stat` calls) and calls
 * {@link buildCli} first when any differs or is gone, so an edited `.ts` file is never ignored.
 *
 * `node bin/buildCli.mjs` builds unconditionally; npm runs it on `npm ci` (prepare) and before
 * `npm test` (pretest); `npm run build` by hand.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'dist', 'cli');
/** Read by bin/apilake.mjs, which trusts only this format (keep the two in step). */
const STAMP = join(OUT_DIR, 'build.json');
const STAMP_FORMAT = 1;
/** Files whose content may end up in the bundle: signed before building (see buildCli()). */
const SOURCE_DIRS = ['cli', 'functions', 'infra', 'bin'];
/** Bundled rather than loaded from node_modules at start-up; its package.json stands for its files. */
const BUNDLED_PACKAGES = new Set(['commander']);
const EXTRA_INPUTS = ['package.json', 'bin/buildCli.mjs', ...[...BUNDLED_PACKAGES].map((name) => `node_modules/${name}/package.json`)];

/**
 * Bundles the CLI. Files are written under temporary names and renamed into place, the stamp
 * last, so two processes rebuilding at once (parallel tests) never expose a half-written build.
 * @param {{ clean?: boolean }} options `clean` removes files of earlier builds (only when no
 *   apilake process can still be lazily importing an old chunk: npm ci, npm test).
 */
export async function buildCli(options = {}) {
  const esbuild = await import('esbuild');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => !BUNDLED_PACKAGES.has(name))
    .flatMap((name) => [name, `${name}/*`]);
  // Signatures are taken BEFORE esbuild reads the files: an edit made while the build runs then
  // no longer matches the stamp, and the next start rebuilds instead of trusting stale output.
  const before = signSources();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts' },
    outdir: OUT_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Other packages load at run time, in the chunk of the command that needs them.
    external,
    // Bundled CommonJS (commander) calls require(); ESM output needs one.
    banner: { js: "import { createRequire as __apilakeCreateRequire } from 'node:module'; const require = __apilakeCreateRequire(import.meta.url);" },
    define: { APILAKE_BUILD_VERSION: JSON.stringify(pkg.version) },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const encoder = await buildParquetThread(esbuild, result.metafile, external);
  const inputs = {};
  // esbuild names inputs relative to absWorkingDir with forward slashes, as signSources() does.
  // Bundled packages' files (possibly behind a symlinked node_modules) are stood for by EXTRA_INPUTS.
  const projectFiles = [...Object.keys(result.metafile.inputs), ...Object.keys(encoder.metafile.inputs)].filter((f) => SOURCE_DIRS.includes(f.split('/')[0]));
  for (const file of [...projectFiles, ...EXTRA_INPUTS]) {
    // A file created during the build has no signature: record an impossible one so the next start rebuilds.
    inputs[file] = before.get(file) ?? { size: -1, mtimeMs: -1 };
  }

  await mkdir(OUT_DIR, { recursive: true });
  const written = new Set();
  for (const file of [...result.outputFiles, ...encoder.outputFiles]) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeAtomically(file.path, file.contents);
    written.add(file.path);
  }
  await writeAtomically(STAMP, JSON.stringify({ format: STAMP_FORMAT, builtAt: new Date().toISOString(), inputs }, null, 1));
  written.add(STAMP);
  if (options.clean) await removeOthers(OUT_DIR, written);
  return { outputs: result.outputFiles.length + encoder.outputFiles.length, inputs: Object.keys(inputs).length };
}

/**
 * The Parquet encoder thread's script (functions/tables/parquetThread.ts). encoderThread.ts
 * starts it from `parquetThread.mjs` beside the file its own code was bundled into, so it is
 * written next to whichever output holds that code (a chunk, as things are).
 */
async function buildParquetThread(esbuild, metafile, external) {
  const starter = 'functions/tables/encoderThread.ts';
  const holder = Object.entries(metafile.outputs).find(([, output]) => starter in output.inputs)?.[0];
  if (!holder) throw new Error(`buildCli: no output of the CLI bundle holds ${starter}; where should parquetThread.mjs go?`);
  return esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['functions/tables/parquetThread.ts'],
    outfile: join(ROOT, dirname(holder), 'parquetThread.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

function signSources() {
  const signatures = new Map();
  const sign = (path) => {
    const stats = statSync(join(ROOT, path));
    signatures.set(path, { size: stats.size, mtimeMs: stats.mtimeMs });
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) sign(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  for (const file of EXTRA_INPUTS) sign(file);
  return signatures;
}

async function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

async function removeOthers(dir, keep) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await removeOthers(path, keep);
    else if (!keep.has(path)) await rm(path, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const { outputs, inputs } = await buildCli({ clean: true });
  process.stdout.write(`apilake: built ${relative(ROOT, OUT_DIR).split(sep).join('/')} (${outputs} files from ${inputs} sources) in ${Date.now() - started} ms\n`);
}
