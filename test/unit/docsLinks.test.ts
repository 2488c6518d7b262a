/**
 * The manual's links: every relative link in README.md, sources/README.md and docs/*.md names a
 * file that exists and, with a `#fragment` into a markdown file, a heading of that file (GitHub's
 * anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The pages users read, relative to the repository root. */
const PAGES = [
  'README.md',
  'sources/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown text without fenced code blocks and inline code, where `[x](y)` is not a link. */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of inline links `[text](target)`, in order. */
function linkTargets(markdown: string): string[] {
  return [...proseOf(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor of a heading's text. */
function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a markdown file offers: its headings' slugs, repeats suffixed -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of proseOf(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = slugOf(m[1]!);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The links of `page` that do not resolve, each with why. */
function brokenLinks(page: string): string[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path = '', fragment] = target.split('#');
    const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(path));
    if (!existsSync(file)) {
      broken.push(`${target}: no file ${relative(ROOT, file)}`);
      continue;
    }
    if (fragment !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(fragment)) {
      broken.push(`${target}: no heading #${fragment} in ${relative(ROOT, file)}`);
    }
  }
  return broken;
}

describe('links of the manual', () => {
  it.each([
    ['[a](docs/x.md) and [b](../y.md#z "title")', ['docs/x.md', '../y.md#z']],
    ['`[not](a.md)` but [yes](b.md)', ['b.md']],
    ['```sh\n[not](a.md)\n```\n[yes](c.md)', ['c.md']],
    ['[web](https://example.com)', ['https://example.com']],
  ])('finds the link targets of %j', (markdown, expected) => {
    expect(linkTargets(markdown)).toEqual(expected);
  });

  it.each([
    ["gc's notion of time", 'gcs-notion-of-time'],
    ['Alarms, dead-letter queues and redrive', 'alarms-dead-letter-queues-and-redrive'],
    ['Late data: settle', 'late-data-settle'],
    ['`schema suggest`', 'schema-suggest'],
    ['Where 2 + 2 is 4', 'where-2--2-is-4'],
  ])('makes the anchor of heading %j', (heading, slug) => {
    expect(slugOf(heading)).toBe(slug);
  });

  it('numbers the anchors of repeated headings', () => {
    expect([...anchorsOf('# A\n## B\n## B\n```\n# C\n```\n')]).toEqual(['a', 'b', 'b-1']);
  });

  it.each(PAGES)('resolves every relative link in %s', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });
});
