/**
 * Builds the `apilake` CLI from TypeScript into `dist/cli/` with esbuild, and tells whether that
 * build still matches the sources.
 *
 * Why a build: compiling TypeScript at every start (tsx) cost 0.4–1.8 s per command. The bundle
 * is split per command (each command is a dynamic import, hence its own chunk) and leaves every
 * npm package external, so `apilake --help` loads neither DuckDB nor the AWS SDK.
 *
 * Why it cannot go stale: `dist/cli/build.json` records the size and mtime of every file the
 * bundle was built from (esbuild's metafile inputs, plus this script). The bin checks them on
 * each start (a few dozen `stat` calls) and rebuilds first when any differs or is gone, so a
 * developer who edits a `.ts` file and runs `npx apilake` runs the edit.
 *
 * `node bin/buildCli.mjs` builds unconditionally; npm runs it on `npm ci` (prepare) and before
 * `npm test` (pretest).
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'dist', 'cli');
const STAMP = join(OUT_DIR, 'build.json');
/** Bumped when the stamp's meaning changes, so an old stamp is never trusted. */
const STAMP_FORMAT = 1;
/** Folders whose files may end up in the bundle: signed before building (see build()). */
const SOURCE_DIRS = ['cli', 'functions', 'infra', 'bin'];
const THIS_FILE = 'bin/buildCli.mjs';

/** The bundled entry point the bin imports, as a file URL. */
export const CLI_ENTRY_URL = pathToFileURL(join(OUT_DIR, 'main.js')).href;

/** Whether dist/cli was built from exactly the files on disk now. Cheap: one read, one stat per input. */
export function isBuildFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  if (stamp?.format !== STAMP_FORMAT || typeof stamp.inputs !== 'object') return false;
  for (const [file, signature] of Object.entries(stamp.inputs)) {
    let stats;
    try {
      stats = statSync(join(ROOT, file));
    } catch {
      return false;
    }
    if (stats.size !== signature.size || stats.mtimeMs !== signature.mtimeMs) return false;
  }
  return true;
}

/**
 * Bundles the CLI. Files are written under temporary names and renamed into place, the stamp
 * last, so two processes rebuilding at once (parallel tests) never expose a half-written build.
 * @param {{ clean?: boolean }} options `clean` removes files of earlier builds (only when no
 *   apilake process can still be lazily importing an old chunk: npm ci, npm test).
 */
export async function buildCli(options = {}) {
  const esbuild = await import('esbuild');
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
    // node_modules are loaded at run time by the chunk that needs them, never at start-up.
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  // esbuild names inputs relative to absWorkingDir with forward slashes, as signSources() does.
  for (const file of [...Object.keys(result.metafile.inputs), THIS_FILE]) {
    // A file created during the build has no signature: record an impossible one so the next start rebuilds.
    inputs[file] = before.get(file) ?? { size: -1, mtimeMs: -1 };
  }

  await mkdir(OUT_DIR, { recursive: true });
  const written = new Set();
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeAtomically(file.path, file.contents);
    written.add(file.path);
  }
  await writeAtomically(STAMP, JSON.stringify({ format: STAMP_FORMAT, builtAt: new Date().toISOString(), inputs }, null, 1));
  written.add(STAMP);
  if (options.clean) await removeOthers(OUT_DIR, written);
  return { outputs: result.outputFiles.length, inputs: Object.keys(inputs).length };
}

function signSources() {
  const signatures = new Map();
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
      else if (entry.isFile()) {
        const stats = statSync(join(ROOT, path));
        signatures.set(path, { size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
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
