/**
 * Stack traces of the bundled function point at the TypeScript sources, without paying for
 * source maps at cold start. `--enable-source-maps` parses the whole map when the bundle loads
 * (measured by `npm run bench`: tens of ms of module init for a map of several MB); here the map
 * is read and parsed the first time an error's stack is formatted, which on the happy path is never.
 * Node's own `SourceMap` (node:module, "Modules: module core module", `findEntry`) does the lookup.
 */

import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Installs `Error.prepareStackTrace` for frames of the bundle at `bundleUrl`, whose map is
 * `<bundle>.map`; stacks without such a frame go to the formatter installed before. Does nothing
 * when Node maps stacks itself (started with --enable-source-maps).
 */
export function installSourceMappedStacks(bundleUrl: string): void {
  if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled) return;
  // V8 calls the hook as a method of Error (v8.dev/docs/stack-trace-api): the one before is kept so.
  const previous = (Error.prepareStackTrace as typeof Error.prepareStackTrace | undefined)?.bind(Error);
  const bundlePath = bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : bundleUrl;
  let map: SourceMap | null | undefined;
  const load = (): SourceMap | null => {
    if (map !== undefined) return map;
    try {
      const file = `${bundlePath}.map`;
      const payload: unknown = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
      map = isSourceMapPayload(payload) ? new SourceMap(payload) : null;
    } catch {
      map = null; // a stack without mapping beats no stack
    }
    return map;
  };
  const isOurs = (frame: CallSite) => {
    const file = frame.getFileName();
    return (file === bundlePath || file === bundleUrl) && frame.getLineNumber() !== null && frame.getColumnNumber() !== null;
  };
  Error.prepareStackTrace = (error, frames: CallSite[]): unknown => {
    if (!frames.some(isOurs) || load() === null) return previous ? previous(error, frames) : defaultStack(error, frames);
    const lines = frames.map((frame) => {
      const mapped = (isOurs(frame) ? load()?.findEntry(frame.getLineNumber()! - 1, frame.getColumnNumber()! - 1) : undefined) as
        { originalSource?: string; originalLine: number; originalColumn: number } | undefined;
      if (!mapped?.originalSource) return `    at ${frame.toString()}`;
      const name = frame.getFunctionName() ?? frame.getMethodName() ?? '<anonymous>';
      return `    at ${name} (${mapped.originalSource}:${mapped.originalLine + 1}:${mapped.originalColumn + 1})`;
    });
    return [errorHeader(error), ...lines].join('\n');
  };
}

function defaultStack(error: Error, frames: readonly CallSite[]): string {
  return [errorHeader(error), ...frames.map((frame) => `    at ${frame.toString()}`)].join('\n');
}

/** A V8 call site, which formats itself as a line of a stack (v8.dev/docs/stack-trace-api); Node's type leaves that out. */
interface CallSite extends NodeJS.CallSite {
  toString(): string;
}

/** Whether a parsed `.map` file has what a source map must (Source Map spec: `version`, `sources`, `mappings`). */
function isSourceMapPayload(value: unknown): value is SourceMapPayload {
  if (value === null || typeof value !== 'object') return false;
  const { version, sources, mappings } = value as Partial<Record<keyof SourceMapPayload, unknown>>;
  return version === 3 && Array.isArray(sources) && typeof mappings === 'string';
}

/** The first line of a stack, as V8 writes it. */
function errorHeader(error: Error): string {
  try {
    return String(error);
  } catch {
    return 'Error';
  }
}
