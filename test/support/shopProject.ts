/**
 * The end-to-end "shop" project: a folder laid out as a user's (`sources/shop.yaml`), whose source
 * `shop` has one hourly stream `items` paging through the test API (testApi.ts).
 */

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How `items` pages through the test API: its `/cursor` or its `/page` endpoint. */
export type ShopPaging = { readonly type: 'cursor'; readonly limit: number } | { readonly type: 'page_number'; readonly perPage: number };

/** What varies between the tests' shop sources. */
export interface ShopSourceOptions {
  readonly paging: ShopPaging;
  /** Source fields written between `base_url` and `streams` (auth, retry, rate_limit, lake): a YAML line each. */
  readonly fields?: readonly string[];
  /** Fields of `items` written after `window` (primary_key, columns): YAML lines at the stream's level. */
  readonly streamFields?: readonly string[];
}

/**
 * The shop source as YAML, over the test API at `baseUrl`.
 * @example shopSource(api.url, { paging: { type: 'cursor', limit: 25 }, fields: ['lake: { part_size_mb: 0.001 }'] })
 */
export function shopSource(baseUrl: string, options: ShopSourceOptions): string {
  const paging =
    options.paging.type === 'cursor'
      ? [
          '    path: /cursor',
          `    params: { since: "{window.start}", until: "{window.end}", limit: ${options.paging.limit} }`,
          '    records: data',
          '    pagination: { type: cursor, cursor: meta.next_cursor, param: cursor }',
        ]
      : ['    path: /page', `    params: { since: "{window.start}", until: "{window.end}", per_page: ${options.paging.perPage} }`, '    records: items', '    pagination: { type: page_number }'];
  const lines = [
    'name: shop',
    'schedule: rate(1 hour)',
    `base_url: ${baseUrl}`,
    ...(options.fields ?? []),
    'streams:',
    '  - name: items',
    ...paging,
    '    window: 1h',
    ...(options.streamFields ?? []).map((line) => `    ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A new folder (named `prefix…` in the temporary folder) whose `sources/` holds these files, by name; returns its path. */
export async function projectFolder(prefix: string, files: Readonly<Record<string, string>>): Promise<string> {
  const cwd = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(cwd, 'sources'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(cwd, 'sources', name), text);
  return cwd;
}

/** A new project folder whose `sources/shop.yaml` is {@link shopSource}; returns its path. */
export function shopProject(prefix: string, baseUrl: string, options: ShopSourceOptions): Promise<string> {
  return projectFolder(prefix, { 'shop.yaml': shopSource(baseUrl, options) });
}
