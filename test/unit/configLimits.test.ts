import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSources, parseSource } from '../../functions/config/loadSources.js';
import { ConfigError, type ConfigProblem } from '../../functions/errors.js';

const VALID = `name: shop
schedule: rate(1 hour)
base_url: https://api.example.com
streams:
  - name: orders
    path: /v1/orders
    params: { since: "{window.start}" }
    records: data
`;

function problemsOf(text: string): readonly ConfigProblem[] {
  try {
    parseSource(text, 'sources/shop.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

async function folderProblems(files: Record<string, string | Buffer>): Promise<readonly ConfigProblem[]> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-limits-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const error = await loadSources(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems.map((p) => ({ ...p, file: p.file.slice(p.file.lastIndexOf('/') + 1) }));
}

/** Nine levels of nine aliases: 9^9 (387 million) strings from 300 bytes. */
function billionLaughs(indent = ''): string {
  const names = 'abcdefghi'.split('');
  return names
    .map(
      (name, i) =>
        `${indent}${name}: &${name} [${
          i === 0
            ? Array(9).fill('"lol"').join(', ')
            : Array(9)
                .fill(`*${names[i - 1]}`)
                .join(', ')
        }]`,
    )
    .join('\n');
}

describe('source file limits', () => {
  it('refuses a file over 1 MiB without parsing it', async () => {
    const big = VALID + `description: "${'x'.repeat(1024 * 1024)}"\n`;
    expect(problemsOf(big)).toEqual([
      { file: 'sources/shop.yaml', path: '', message: `file is ${Buffer.byteLength(big).toLocaleString('en-US')} bytes, more than the 1 MiB a source definition may take` },
    ]);
    const problems = await folderProblems({ 'big.yaml': Buffer.alloc(8 * 1024 * 1024, 0x20) });
    expect(problems).toEqual([{ file: 'big.yaml', path: '', message: 'file is 8,388,608 bytes, more than the 1 MiB a source definition may take' }]);
  });

  it('reports a billion laughs as a located YAML problem', () => {
    expect(problemsOf(billionLaughs())).toEqual([
      {
        file: 'sources/shop.yaml',
        path: '',
        line: 5, // e: [*d, …]: 90 + 819 + 7,380 nodes added before it, and its first *d adds 7,381 more
        message: 'YAML: aliases expand this file by more than 10,000 nodes (*d alone stands for 7,381 nodes); anchors share small blocks, they do not generate data',
      },
    ]);
  });

  it('reports an alias bomb inside a known key (vars) at the alias that crosses the limit', () => {
    const text = VALID.replace('streams:', `vars:\n${billionLaughs('  ')}\nstreams:`);
    expect(problemsOf(text)).toMatchObject([{ line: 9, message: expect.stringMatching(/^YAML: aliases expand this file by more than 10,000 nodes \(\*d alone/) as string }]);
  });

  it('reports one huge anchored block aliased a few times', () => {
    const block = `[${Array(3000).fill('1').join(',')}]`;
    const text = `${VALID}description: &big ${block}\nvars: { a: *big, b: *big, c: *big, d: *big }\n`;
    expect(problemsOf(text)).toMatchObject([
      { line: 10, message: expect.stringMatching(/^YAML: aliases expand this file by more than 10,000 nodes \(\*big alone stands for 3,001 nodes\)/) as string },
    ]);
  });

  it.each([
    ['more than 100 aliases', `${VALID}vars:\n  a: &x 1\n${Array.from({ length: 101 }, (_, i) => `  k${i}: *x`).join('\n')}\n`, 111, 'YAML: more than 100 aliases (*name) in one file'],
    ['an alias without its anchor', `${VALID}vars: { a: *nope }\n`, 9, 'YAML: alias *nope has no anchor &nope before it'],
    ['an alias inside the node it names', VALID.replace('streams:', 'streams: &s\n  - *s'), 5, 'YAML: alias *s sits inside the node it names, which would make it infinite'],
    ['collections nested 100,000 deep', `${VALID}vars: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 9, 'YAML: collections nested more than 100 levels deep'],
    ['an unknown tag', `${VALID}description: !secret x\n`, 9, 'YAML: Unresolved tag: !secret'],
    ['two documents in one file', `${VALID}---\nname: other\n`, 9, expect.stringMatching(/^YAML: Source contains multiple documents/) as string],
  ])('reports %s with its line', (_what, text, line, message) => {
    expect(problemsOf(text)).toEqual([{ file: 'sources/shop.yaml', path: '', line, message }]);
  });

  it('reports block nesting too deep for the parser with its line, not a stack overflow', () => {
    const text = `vars:\n${Array.from({ length: 1200 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')}\n`;
    expect(problemsOf(text)[0]).toMatchObject({ path: '', line: expect.any(Number) as number, message: 'YAML: nesting too deep to parse' });
  });

  it('accepts anchors that share small blocks', () => {
    const text = VALID.replace('params: { since: "{window.start}" }', 'params: &p { since: "{window.start}" }') + '  - name: refunds\n    path: /v1/refunds\n    params: *p\n';
    expect(parseSource(text, 'shop.yaml').streams[1]!.params).toEqual({ since: '{window.start}' });
  });

  it('reports a file that is not UTF-8 with the line of the first bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from(VALID), Buffer.from('description: caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(await folderProblems({ 'latin1.yaml': bytes })).toEqual([{ file: 'latin1.yaml', path: '', line: 9, message: 'file is not valid UTF-8 (save it as UTF-8)' }]);
  });

  it('reports a *.yaml that is not a regular file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-limits-'));
    await mkdir(join(dir, 'folder.yaml'));
    const error = (await loadSources(dir).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems).toMatchObject([{ path: '', message: 'not a regular file' }]);
  });
});

describe('one validation pass', () => {
  it('reports schema and semantic problems together, semantic checks running on whatever parsed', () => {
    const text = `name: shop
schedule: every hour
base_url: https://api.example.com
retry: { max_attempts: 0 }
streams:
  - name: orders
    path: /v1/{region}/orders
    params: { since: "{window.begin}" }
    records: "data["
    pagination: { type: scroll }
`;
    expect(problemsOf(text).map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
      '2 schedule: "every hour" is not a Scheduler expression: expected rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)',
      '4 retry.max_attempts: Too small: expected number to be >0 (got 0)',
      expect.stringMatching(/^7 streams\[0\]\.path: unknown placeholder \{region\}/),
      expect.stringMatching(/^8 streams\[0\]\.params\.since: unknown placeholder \{window\.begin\}/),
      expect.stringMatching(/^9 streams\[0\]\.records: "data\[" is not valid JMESPath/),
      expect.stringMatching(/^10 streams\[0\]\.pagination\.type: Invalid/),
    ]);
  });

  it('checks header names and values of the source and its streams', () => {
    const text = VALID.replace('streams:', 'headers: { "Bad Name": x, X-Note: "caf’e" }\nstreams:');
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      `headers.Bad Name: "Bad Name" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~- only)`,
      'headers.X-Note: cannot be sent as an HTTP header: character 4 of 5 is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji)',
    ]);
  });
});

describe('table names across sources', () => {
  it('reports two streams that would share a table, naming both files and lines', async () => {
    const gh = VALID.replace('name: shop', 'name: gh').replace('name: orders', 'name: x_issues');
    const ghx = VALID.replace('name: shop', 'name: gh_x').replace('name: orders', 'name: issues');
    expect(await folderProblems({ 'gh.yaml': gh, 'gh_x.yaml': ghx })).toEqual([
      {
        file: 'gh_x.yaml',
        path: 'streams[0].name',
        line: 5,
        message: expect.stringMatching(
          /^table "gh_x_issues" \(source "gh_x", stream "issues"\) is also the table of source "gh", stream "x_issues" in .*gh\.yaml:5: rename a source or a stream$/,
        ) as string,
      },
    ]);
  });

  it('reports the collision even when the files have other problems', async () => {
    const gh = VALID.replace('name: shop', 'name: gh').replace('name: orders', 'name: x_issues').replace('rate(1 hour)', 'rate(1 hours)');
    const ghx = VALID.replace('name: shop', 'name: gh_x').replace('name: orders', 'name: issues');
    const problems = await folderProblems({ 'gh.yaml': gh, 'gh_x.yaml': ghx });
    expect(problems.map((p) => `${p.file}:${p.line} ${p.path}`)).toEqual(['gh.yaml:2 schedule', 'gh_x.yaml:5 streams[0].name']);
  });

  it('names both files of a source defined twice', async () => {
    const problems = await folderProblems({ 'a.yaml': VALID, 'b.yaml': VALID });
    expect(problems).toEqual([{ file: 'b.yaml', path: 'name', line: 1, message: expect.stringMatching(/^source "shop" is also defined in .*a\.yaml:1$/) as string }]);
  });
});
