/**
 * Stack traces of the bundled function point at the TypeScript sources, without paying for
 * source maps at cold start. `--enable-source-maps` parses the whole map when the bundle loads
 * (measured by `npm run bench`: tens of ms of module init for a map of several MB); here the map
 * is read and parsed the first time an error's stack is formatted, which on the happy path is never.
 * Node's own `SourceMap` (node:module, "Modules: module core module", `findEntry`) does the lookup.
 */

import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Installs `Error.prepareStackTrace` for frames of the bundle at `bundleUrl`, whose map is
 * `<bundle>.map`; stacks without such a frame go to the formatter installed before. Does nothing
 * when Node maps stacks itself (started with --enable-source-maps).
 */
export function installSourceMappedStacks(bundleUrl: string): void {
  if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled) return;
  const previous = Error.prepareStackTrace;
  const bundlePath = bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : bundleUrl;
  let map: SourceMap | null | undefined;
  const load = (): SourceMap | null => {
    if (map !== undefined) return map;
    try {
      const file = `${bundlePath}.map`;
      map = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null;
    } catch {
      map = null; // a stack without mapping beats no stack
    }
    return map;
  };
  const isOurs = (frame: NodeJS.CallSite) => {
    const file = frame.getFileName();
    return (file === bundlePath || file === bundleUrl) && frame.getLineNumber() !== null && frame.getColumnNumber() !== null;
  };
  Error.prepareStackTrace = (error, frames) => {
    if (!frames.some(isOurs) || load() === null) return previous ? previous(error, frames) : defaultStack(error, frames);
    const lines = frames.map((frame) => {
      const mapped = (isOurs(frame) ? load()?.findEntry(frame.getLineNumber()! - 1, frame.getColumnNumber()! - 1) : undefined) as
        { originalSource?: string; originalLine: number; originalColumn: number } | undefined;
      if (!mapped?.originalSource) return `    at ${String(frame)}`;
      const name = frame.getFunctionName() ?? frame.getMethodName() ?? '<anonymous>';
      return `    at ${name} (${mapped.originalSource}:${mapped.originalLine + 1}:${mapped.originalColumn + 1})`;
    });
    return [errorHeader(error), ...lines].join('\n');
  };
}

function defaultStack(error: Error, frames: readonly NodeJS.CallSite[]): string {
  return [errorHeader(error), ...frames.map((frame) => `    at ${String(frame)}`)].join('\n');
}

/** The first line of a stack, as V8 writes it. */
function errorHeader(error: Error): string {
  try {
    return String(error);
  } catch {
    return 'Error';
  }
}
