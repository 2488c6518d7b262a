#!/usr/bin/env node
// The `apilake` command: runs the CLI bundled in dist/cli (see buildCli.mjs), rebuilding it first
// when any file it came from changed, so what runs is always what is on disk. This file stays
// small and imports nothing else on the fast path: every module loaded at start-up costs time.
import { readFileSync, statSync } from 'node:fs';

// The AWS SDK warns on every AWS-touching command that its releases after January 2027 need
// Node.js 22. apilake pins the SDK in package-lock.json and supports Node.js >= 20.19 (its
// Lambdas run Node.js 22), so the notice is not actionable for a user: acknowledge it with the
// SDK's documented opt-out, unless the user set the variable themselves.
// https://github.com/aws/aws-sdk-js-v3/issues/7983
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (process.env.APILAKE_DEBUG === '1') process.setSourceMapsEnabled(true);

const ROOT = new URL('../', import.meta.url);
const DIST = new URL('dist/cli/', ROOT);

/** Whether dist/cli was built from exactly the files on disk now: the stamp buildCli.mjs writes (format 1), one stat per input. */
function isBuildFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('build.json', DIST), 'utf8'));
  } catch {
    return false;
  }
  if (stamp?.format !== 1 || typeof stamp.inputs !== 'object') return false;
  for (const [file, signature] of Object.entries(stamp.inputs)) {
    let stats;
    try {
      stats = statSync(new URL(file, ROOT));
    } catch {
      return false;
    }
    if (stats.size !== signature.size || stats.mtimeMs !== signature.mtimeMs) return false;
  }
  return true;
}

let runBundle = isBuildFresh();
if (!runBundle) {
  try {
    await (await import('./buildCli.mjs')).buildCli();
    runBundle = true;
  } catch (error) {
    // Without esbuild (an install without dev dependencies) the TypeScript still runs, slower.
    process.stderr.write(`apilake: cannot rebuild dist/cli (${error instanceof Error ? error.message.split('\n')[0] : error}); running the TypeScript sources through tsx\n`);
    const { register } = await import('tsx/esm/api');
    register();
    await import('../cli/main.ts');
  }
}
if (runBundle) await import(new URL('main.js', DIST).href);
