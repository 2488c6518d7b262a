/**
 * The layers of the code, checked on its import statements: a module imports only from its own
 * layer's folder or from layers below it, no modules import each other in a circle, and the CLI
 * and the CDK app reach the engine only through its front door (functions/index.ts).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Bottom to top; a module may import its own folder and any lower layer. */
const LAYERS: readonly (readonly string[])[] = [
  ['functions/errors.ts', 'functions/clock.ts', 'functions/commons'],
  ['functions/expressions', 'functions/window'],
  ['functions/config'],
  ['functions/secrets', 'functions/tables'],
  ['functions/http'],
  // budget: rate budgets shared across invocations, behind the HTTP client's RateBudget interface.
  ['functions/body', 'functions/budget'],
  ['functions/pagination', 'functions/sink'],
  ['functions/engine'],
  // Both shells around the engine: the Lambda handler, and cassettes, which record and replay a
  // source's traffic through it (the engine knows neither).
  ['functions/ingest', 'functions/cassettes'],
  ['functions/index.ts'],
  ['infra'],
  // The CLI reads a deployment's outputs by the names infra/ gives them.
  ['cli'],
];

/** The room (folder or top-level file) a path belongs to, and its layer. */
function roomOf(path: string): { room: string; layer: number } | undefined {
  for (const [layer, rooms] of LAYERS.entries()) {
    for (const room of rooms) if (path === room || path.startsWith(`${room}/`)) return { room, layer };
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The project files a module imports (static, re-export and dynamic imports of relative paths). */
export function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)|(?:^|\n)\s*import\s*'(\.[^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specifiers.map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).replace(/\.js$/, '.ts'));
}

const files = ['functions', 'cli', 'infra'].flatMap(sourceFiles);
const graph = new Map(files.map((file) => [file, importsOf(file, readFileSync(join(ROOT, file), 'utf8')).filter((target) => target !== file)]));

/** Every import from a lower room to a higher one, or sideways to another room of the same layer. */
export function upwardImports(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const found: string[] = [];
  for (const [file, targets] of edges) {
    const from = roomOf(file);
    if (!from) continue;
    for (const target of targets) {
      const to = roomOf(target);
      if (!to || to.room === from.room) continue;
      if (to.layer > from.layer || (to.layer === from.layer && from.layer > 0)) found.push(`${file} → ${target}`);
    }
  }
  return found;
}

/** One circle of imports, as the files around it, or undefined. */
export function findCircle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const target of edges.get(file) ?? []) {
      const circle = visit(target);
      if (circle) return circle;
    }
    path.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of edges.keys()) {
    const circle = visit(file);
    if (circle) return circle;
  }
  return undefined;
}

describe('the layers', () => {
  it('place every module of functions/, cli/ and infra/ in a layer', () => {
    expect(files.filter((file) => !roomOf(file))).toEqual([]);
  });

  it('have no import from a lower layer to a higher one, nor between two rooms of one layer', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('have no circle of imports', () => {
    expect(findCircle(graph)).toBeUndefined();
  });

  it('let the CLI and the CDK app reach the engine only through functions/index.ts', () => {
    const deep = [...graph].flatMap(([file, targets]) =>
      file.startsWith('cli/') || file.startsWith('infra/') ? targets.filter((t) => t.startsWith('functions/') && t !== 'functions/index.ts').map((t) => `${file} → ${t}`) : [],
    );
    expect(deep).toEqual([]);
  });

  it('catch what they are meant to catch', () => {
    // The checks themselves, on small graphs: an upward import, a sideways one, a circle.
    const bad = new Map([
      ['functions/config/a.ts', ['functions/engine/b.ts']],
      ['functions/sink/c.ts', ['functions/pagination/d.ts']],
      ['functions/engine/b.ts', ['functions/engine/e.ts']],
      ['functions/engine/e.ts', ['functions/engine/b.ts']],
    ]);
    expect(upwardImports(bad)).toEqual(['functions/config/a.ts → functions/engine/b.ts', 'functions/sink/c.ts → functions/pagination/d.ts']);
    expect(findCircle(bad)).toEqual(['functions/engine/b.ts', 'functions/engine/e.ts', 'functions/engine/b.ts']);
    expect(importsOf('cli/x.ts', "import { a } from '../functions/index.js';\nexport * from './y.js';\nconst m = await import('./z.js');")).toEqual(['functions/index.ts', 'cli/y.ts', 'cli/z.ts']);
  });
});
