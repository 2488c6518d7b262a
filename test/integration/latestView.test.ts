/**
 * The headline query of typed tables, on the shipped GitHub example against a GitHub-shaped API:
 * issues change state across windows, and `_latest` answers with each issue's current state.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { exampleSource } from '../support/exampleSource.js';
import { startGithubIssuesApi, type Issue } from '../support/githubIssuesApi.js';
import type { JsonServer } from '../support/jsonServer.js';

let server: JsonServer | undefined;
afterEach(() => server?.close());

const issue = (id: number, state: Issue['state'], updated: string): Issue => ({ id, number: id, title: `issue ${id}`, state, created_at: '2023-06-01T00:00:00Z', updated_at: updated });

describe('github_issues_issues_latest', () => {
  it('answers SELECT state, count(*) … GROUP BY 1 with the current state of each issue', async () => {
    const issues: Issue[] = [issue(1, 'open', '2024-01-01T00:10:00Z'), issue(2, 'open', '2024-01-01T00:20:00Z'), issue(3, 'closed', '2024-01-01T00:30:00Z')];
    server = await startGithubIssuesApi({ issues });
    const source = await exampleSource('github_issues.yaml', (doc) => {
      doc.base_url = server!.url;
    });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-latest-'));
    const land = async (from: string, to: string) => {
      const client = await createSourceClient(source, new EnvSecretProvider({ APILAKE_SECRET_APILAKE_GITHUB: JSON.stringify({ token: 'ghp_local_test_token' }) }));
      return runSource({ source, selection: { kind: 'range', from: new Date(from), to: new Date(to) }, client, storage: new FsLakeStorage(lake) });
    };
    expect((await land('2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z')).map((r) => r.records)).toEqual([3]);
    // An hour later, issue 1 is closed and issue 4 opened: the API now shows their new versions.
    issues[0] = issue(1, 'closed', '2024-01-01T01:15:00Z');
    issues.push(issue(4, 'open', '2024-01-01T01:40:00Z'));
    expect((await land('2024-01-01T01:00:00Z', '2024-01-01T02:00:00Z')).map((r) => r.records)).toEqual([2]);

    const specs = source.streams.map((s) => tableSpec(source, s));
    const sql = 'SELECT state, count(*) FROM github_issues_issues_latest GROUP BY 1 ORDER BY 1';
    expect((await runLocalQuery(sql, lake, { specs })).rows).toEqual([
      ['closed', '2'],
      ['open', '2'],
    ]);
    // Every version stays in the table itself: issue 1 twice.
    expect((await runLocalQuery('SELECT count(*), count(DISTINCT id) FROM github_issues_issues', lake, { specs })).rows).toEqual([['5', '4']]);
    expect((await runLocalQuery('SELECT state FROM github_issues_issues_latest WHERE id = 1', lake, { specs })).rows).toEqual([['closed']]);
    // A query of a table that does not exist lists every name a query can read, the view included.
    await expect(runLocalQuery('SELECT * FROM nope', lake, { specs })).rejects.toThrow(/\ntables: github_issues_issues, github_issues_issues_latest, github_issues_issues_raw$/);
  });
});

describe('the Athena SQL of every shipped example', () => {
  it('parses as Trino SQL: each _latest view and the headline query', async () => {
    const { TrinoSQL } = await import('dt-sql-parser');
    const { readdir } = await import('node:fs/promises');
    const { loadSourceFile } = await import('../../functions/config/loadSources.js');
    const { latestViewSelect } = await import('../../functions/tables/latestView.js');
    const trino = new TrinoSQL();
    const examples = new URL('../../examples/', import.meta.url);
    let views = 0;
    for (const name of (await readdir(examples)).filter((n) => n.endsWith('.yaml'))) {
      const source = await loadSourceFile(new URL(name, examples).pathname);
      for (const stream of source.streams) {
        const sql = latestViewSelect(tableSpec(source, stream), 'athena');
        if (sql === undefined) continue;
        views++;
        expect(
          trino.validate(sql).map((e) => e.message),
          `${name} ${stream.name}`,
        ).toEqual([]);
      }
    }
    expect(views).toBeGreaterThanOrEqual(3); // demo_shop orders and customers, github_issues
    expect(trino.validate('SELECT state, count(*) FROM github_issues_issues_latest GROUP BY 1')).toEqual([]);
    // The Trino grammar takes seconds a view on a loaded machine, and every example has one.
  }, 180_000);
});
