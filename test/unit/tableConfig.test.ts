import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { ConfigError } from '../../functions/errors.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { configProblems } from '../support/configProblems.js';

/** The problems of a source text, located by path only. */
const problemsOf = (text: string) => configProblems(text, 'sources/github_issues.yaml').map(({ path, message }) => ({ path, message }));

const SOURCE = (stream: string) => `
name: github_issues
schedule: rate(1 hour)
base_url: https://api.github.com
streams:
  - name: issues
    path: /repos/aws/aws-cdk/issues
${stream
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;

describe('primary_key and columns of a stream', () => {
  it('builds the table spec of a valid stream, defaults filled', () => {
    const source = parseSource(
      SOURCE(`
primary_key: [id]
columns:
  - { name: id, path: id, type: bigint }
  - { name: labels, path: "labels[].name", type: "array<string>", comment: label names }
  - { name: amount, path: price.amount, type: "DECIMAL(12, 2)" }`),
      'x.yaml',
    );
    const spec = tableSpec(source, source.streams[0]!);
    expect(spec).toMatchObject({ name: 'github_issues_issues', primaryKey: ['id'] });
    expect(spec.columns).toEqual([
      { name: 'id', path: 'id', type: { kind: 'bigint' }, comment: 'id as bigint' },
      { name: 'labels', path: 'labels[].name', type: { kind: 'array', element: { kind: 'string' } }, comment: 'label names' },
      { name: 'amount', path: 'price.amount', type: { kind: 'decimal', precision: 12, scale: 2 }, comment: 'price.amount as DECIMAL(12, 2)' },
    ]);
    expect(tableSpec(source, source.streams[0]!, { cursorField: 'updated_at' }).cursorField).toBe('updated_at');
  });

  it('gives a stream without columns an empty list and no primary key', () => {
    const source = parseSource(SOURCE(''), 'x.yaml');
    expect(tableSpec(source, source.streams[0]!)).toMatchObject({ columns: [], primaryKey: [] });
  });

  it('fails on a column name that is not a lower-case identifier', () => {
    expect(problemsOf(SOURCE(`columns:\n  - { name: _run_id, path: id, type: bigint }\n  - { name: Title, path: title, type: string }`))).toEqual([
      { path: 'streams[0].columns[0].name', message: expect.stringContaining('names starting with _ belong to the envelope') as string },
      { path: 'streams[0].columns[1].name', message: expect.stringContaining('must match [a-z][a-z0-9_]*') as string },
    ]);
  });

  it('reports every semantic problem of the columns and the primary key at once, with its path', () => {
    const problems = problemsOf(
      SOURCE(`
primary_key: ["labels[0].name", "user.login", "sort_by(@, &x", "id"]
columns:
  - { name: dt, path: id, type: bigint }
  - { name: id, path: id, type: int }
  - { name: id, path: "labels[", type: string }
  - { name: data, path: data, type: "array<string" }`),
    );
    // In the file's line order: primary_key comes first.
    expect(problems).toEqual([
      { path: 'streams[0].primary_key[0]', message: expect.stringContaining('neither the path of a declared column nor a dotted path') as string },
      { path: 'streams[0].primary_key[2]', message: expect.stringContaining('is not valid JMESPath') as string },
      { path: 'streams[0].columns[0].name', message: expect.stringContaining('"dt" is an envelope column') as string },
      { path: 'streams[0].columns[1].type', message: expect.stringContaining('unknown type name "int"') as string },
      { path: 'streams[0].columns[2].name', message: 'duplicate column name "id" (also columns[1])' },
      { path: 'streams[0].columns[2].path', message: expect.stringContaining('"labels[" is not valid JMESPath') as string },
      { path: 'streams[0].columns[3].name', message: expect.stringContaining('"data" is an envelope column') as string },
      { path: 'streams[0].columns[3].type', message: expect.stringContaining('expected ">"') as string },
    ]);
  });

  it('reports the problems of every column in one pass when some column does not pass the schema', () => {
    const problems = problemsOf(
      SOURCE(`
columns:
  - { name: id, path: id, type: int }
  - { name: A8, path: a8, type: string }
  - { name: id, path: "labels[", type: string, typ: bigint }
  - { name: dt, path: 7, type: "array<string" }
  - plain text`),
    );
    expect(problems).toEqual([
      { path: 'streams[0].columns[0].type', message: expect.stringContaining('unknown type name "int"') as string },
      { path: 'streams[0].columns[1].name', message: expect.stringContaining('must match [a-z][a-z0-9_]*') as string },
      { path: 'streams[0].columns[2].typ', message: 'unknown key "typ"' },
      { path: 'streams[0].columns[2].name', message: 'duplicate column name "id" (also columns[0])' },
      { path: 'streams[0].columns[2].path', message: expect.stringContaining('"labels[" is not valid JMESPath') as string },
      { path: 'streams[0].columns[3].path', message: 'Invalid input: expected string, received number (got 7)' },
      { path: 'streams[0].columns[3].name', message: expect.stringContaining('"dt" is an envelope column') as string },
      { path: 'streams[0].columns[3].type', message: expect.stringContaining('expected ">"') as string },
      { path: 'streams[0].columns[4]', message: 'Invalid input: expected object, received string (got "plain text")' },
    ]);
  });

  it('reports the problems of the columns when a field they do not depend on is invalid', () => {
    const problems = problemsOf(`${SOURCE(`columns:\n  - { name: id, path: id, type: int }`)}vars: [1]\n`);
    expect(problems.map((p) => p.path)).toEqual(['streams[0].columns[0].type', 'vars']);
  });

  it('accepts a primary key that is a declared column path or a dotted path', () => {
    const problems = (() => {
      try {
        parseSource(SOURCE(`primary_key: ["labels[0].name", user.login]\ncolumns:\n  - { name: first_label, path: "labels[0].name", type: string }`), 'x.yaml');
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    })();
    expect(problems).toEqual([]);
  });
});
