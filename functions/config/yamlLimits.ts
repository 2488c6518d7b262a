/**
 * Limits that keep a hostile or broken source file from exhausting the loader: its size, the
 * nesting of flow collections (the `yaml` lexer runs out of memory on ~100k nested `[`), and
 * what anchors and aliases may expand to (an alias bomb or "billion laughs" turns 300 bytes into
 * 10^9 nodes). Each breach is reported where it happens, as any other problem of the file.
 */

import { isAlias, isCollection, isNode, isPair, isScalar, type Document, type Node } from 'yaml';

/** Largest source file read: a source definition is a page or two of YAML. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/** Deepest nesting of `[` / `{` accepted; real sources nest a handful of levels. */
export const MAX_FLOW_DEPTH = 100;
/** Most aliases (`*name`) in one file. */
export const MAX_ALIASES = 100;
/** Most nodes aliases may add to a file once expanded; also the `yaml` library's own `maxAliasCount` backstop. */
export const MAX_ALIAS_NODES = 10_000;

/** A breach of a limit, at a character offset of the text when it has one. */
export interface LimitProblem {
  readonly message: string;
  readonly offset?: number;
}

/** Formats a byte count for messages: `1 MiB`, `1,048,577 bytes`. */
export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes.toLocaleString('en-US')} bytes`;
}

/** The size limit, checked on text already in memory or on a file's size. */
export function checkSize(bytes: number): LimitProblem | undefined {
  if (bytes <= MAX_SOURCE_BYTES) return undefined;
  return { message: `file is ${bytes.toLocaleString('en-US')} bytes, more than the ${formatBytes(MAX_SOURCE_BYTES)} a source definition may take` };
}

/**
 * Finds flow nesting deeper than {@link MAX_FLOW_DEPTH} before the parser sees it. Brackets are
 * counted wherever they stand, quoted or not: a false alarm needs a hundred unbalanced brackets
 * inside strings, while a scan that trusted quotes could be fooled into missing a real bomb.
 */
export function checkFlowDepth(text: string): LimitProblem | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return { offset: i, message: `YAML: collections nested more than ${MAX_FLOW_DEPTH} levels deep` };
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return undefined;
}

/**
 * Checks anchors and aliases: at most {@link MAX_ALIASES} aliases, at most
 * {@link MAX_ALIAS_NODES} nodes added by expanding them, every alias defined before use, no
 * alias inside the node it names (a cycle). Walks the parsed document once, weighing each node
 * by the size it expands to, so a bomb is measured without being expanded.
 */
export function checkAliases(doc: Document): LimitProblem[] {
  const anchors = new Map<string, Node>();
  const weights = new Map<Node, number>();
  const open = new Set<Node>();
  let aliases = 0;
  let added = 0;
  let problem: LimitProblem | undefined;

  const weigh = (node: unknown): number => {
    if (problem || !isNode(node)) return 1;
    if (isAlias(node)) {
      const offset = node.range?.[0];
      if (++aliases > MAX_ALIASES) {
        problem = { offset, message: `YAML: more than ${MAX_ALIASES} aliases (*name) in one file` };
        return 1;
      }
      const target = anchors.get(node.source);
      if (!target) {
        problem = { offset, message: `YAML: alias *${node.source} has no anchor &${node.source} before it` };
        return 1;
      }
      if (open.has(target)) {
        problem = { offset, message: `YAML: alias *${node.source} sits inside the node it names, which would make it infinite` };
        return 1;
      }
      const weight = weights.get(target) ?? 1;
      added += weight;
      if (added > MAX_ALIAS_NODES) {
        problem = {
          offset,
          message: `YAML: aliases expand this file by more than ${MAX_ALIAS_NODES.toLocaleString('en-US')} nodes (*${node.source} alone stands for ${formatCount(weight)}); anchors share small blocks, they do not generate data`,
        };
      }
      return weight;
    }
    // Registered before its children: an alias may only name an anchor that precedes it.
    if (node.anchor) anchors.set(node.anchor, node);
    let weight = 1;
    if (isCollection(node)) {
      open.add(node);
      for (const item of node.items) weight += isPair(item) ? weigh(item.key) + weigh(item.value) : weigh(item);
      open.delete(node);
    } else if (!isScalar(node)) weight = 1;
    weights.set(node, weight);
    return weight;
  };
  weigh(doc.contents);
  return problem ? [problem] : [];
}

function formatCount(n: number): string {
  return Number.isFinite(n) && n < 1e15 ? `${n.toLocaleString('en-US')} nodes` : 'more nodes than can be counted';
}
