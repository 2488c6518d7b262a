import { describe, expect, it } from 'vitest';
import { streamSettleMs } from '../../functions/window/streamTiming.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { ConfigError } from '../../functions/errors.js';

const base = { name: 'org', schedule: 'rate(1 hour)', base_url: 'https://api.example.com', vars: { org: 'acme' } };
const repos = { name: 'repos', path: '/orgs/{org}/repos' };
const issues = { name: 'issues', path: '/repos/{org}/{repo}/issues', parent: { stream: 'repos', key: 'name', as: 'repo' } };

const parse = (streams: unknown[], extra: Record<string, unknown> = {}) => parseSource(JSON.stringify({ ...base, ...extra, streams }), 'org.yaml');
function problems(streams: unknown[], extra: Record<string, unknown> = {}): string[] {
  try {
    parse(streams, extra);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('incremental, settle and parent in a source file', () => {
  it('accepts the contracts of issue 10, with their defaults', () => {
    const source = parse([
      { ...repos, incremental: { cursor_field: 'pushed_at' } },
      { ...issues, settle: '10m', incremental: { cursor_field: 'updated_at', order: 'asc' } },
      { name: 'comments', path: '/repos/{org}/{repo}/issues/{number}/comments', parent: { stream: 'issues', key: 'number', as: 'number' } },
    ]);
    expect(source.streams[0]!.incremental).toEqual({ cursor_field: 'pushed_at', order: 'none' });
    expect(source.streams[1]).toMatchObject({ settle: '10m', parent: { stream: 'repos', key: 'name', as: 'repo' } });
    expect(streamSettleMs(source.streams[1]!)).toBe(600_000);
    expect(streamSettleMs(source.streams[0]!)).toBe(0);
  });

  it.each(['s', 'ms', 'us', 'ns'])('takes incremental.unit %s', (unit) => {
    expect(parse([{ ...repos, incremental: { cursor_field: 'ts', unit } }]).streams[0]!.incremental).toEqual({ cursor_field: 'ts', unit, order: 'none' });
  });

  it.each([
    [
      'an unknown parent',
      [repos, { ...issues, parent: { stream: 'repo', key: 'name', as: 'repo' } }],
      'streams[1].parent.stream: unknown stream "repo": expected another stream of this source (repos)',
    ],
    ['a stream as its own parent', [{ ...issues, parent: { stream: 'issues', key: 'name', as: 'repo' } }], 'streams[0].parent.stream: a stream cannot be its own parent'],
    [
      'a cycle',
      [{ ...repos, path: '/orgs/{org}/{number}', parent: { stream: 'issues', key: 'number', as: 'number' } }, issues],
      'streams[0].parent.stream: parent streams go round in a cycle: repos → issues → repos',
    ],
    [
      'an `as` that is not a placeholder name',
      [repos, { ...issues, parent: { stream: 'repos', key: 'name', as: 'window.repo' } }],
      'streams[1].parent.as: a placeholder name: a letter or _, then letters, digits or _',
    ],
    [
      'an `as` that is also a var',
      [repos, { ...issues, path: '/repos/{org}', parent: { stream: 'repos', key: 'name', as: 'org' } }],
      'streams[1].parent.as: "org" is also a key of vars: name the parent\'s placeholder something else',
    ],
    [
      'an `as` used nowhere',
      [repos, { ...issues, path: '/repos/{org}/issues' }],
      'streams[1].parent.as: {repo} is used nowhere: put it in path, params or body, or every parent would fetch the same records',
    ],
    ['a parent key that is not JMESPath', [repos, { ...issues, parent: { stream: 'repos', key: 'name[', as: 'repo' } }], 'streams[1].parent.key: "name[" is not valid JMESPath'],
    ['a settle that is not a duration', [{ ...repos, settle: '10 minutes' }], 'streams[0].settle: "10 minutes" is not a duration: expected <n>s, <n>m, <n>h or <n>d (e.g. 10m)'],
    [
      'an incremental order that does not exist',
      [{ ...repos, incremental: { cursor_field: 'updated_at', order: 'ascending' } }],
      'streams[0].incremental.order: Invalid option: expected one of "asc"|"desc"|"none" (got "ascending")',
    ],
    [
      'an epoch unit that does not exist',
      [{ ...repos, incremental: { cursor_field: 'ts', unit: 'µs' } }],
      'streams[0].incremental.unit: Invalid option: expected one of "s"|"ms"|"us"|"ns" (got "µs")',
    ],
    ['a cursor_field that is not JMESPath', [{ ...repos, incremental: { cursor_field: 'a..b' } }], 'streams[0].incremental.cursor_field: "a..b" is not valid JMESPath'],
    ['a placeholder of no parent', [{ ...repos, path: '/orgs/{org}/{repo}' }], 'streams[0].path: unknown placeholder {repo}'],
  ])('fails on %s, saying where and why', (_what, streams, message) => {
    expect(problems(streams).some((p) => p.startsWith(message))).toBe(true);
  });

  it('lets a grandchild use the placeholders of every parent above it', () => {
    expect(problems([repos, issues, { name: 'comments', path: '/repos/{org}/{repo}/issues/{number}/comments', parent: { stream: 'issues', key: 'number', as: 'number' } }])).toEqual([]);
    expect(problems([repos, issues, { name: 'comments', path: '/repos/{org}/{repo}/comments', parent: { stream: 'issues', key: 'number', as: 'repo' } }])).toContain(
      'streams[2].parent.as: "repo" is also the placeholder of a parent further up: each level needs its own name',
    );
  });

  it('accepts `as` in params or a body instead of the path', () => {
    expect(problems([repos, { ...issues, path: '/issues', params: { repo: '{repo}' } }])).toEqual([]);
    expect(problems([repos, { ...issues, path: '/search', method: 'POST', body: { filter: { repo: '{repo}' } } }])).toEqual([]);
  });
});

describe('pagination.in', () => {
  const cursor = (extra: Record<string, unknown>) => ({ type: 'cursor', cursor: 'next', param: 'variables.after', ...extra });

  it('defaults to query and takes body and header', () => {
    const source = parse([
      { name: 'a', path: '/a', pagination: { type: 'cursor', cursor: 'next', param: 'after' } },
      { name: 'b', path: '/graphql', method: 'POST', body: { query: 'q', variables: { after: null } }, pagination: cursor({ in: 'body' }) },
      { name: 'c', path: '/c', pagination: { type: 'cursor', cursor: 'next', param: 'X-Cursor', in: 'header' } },
      { name: 'd', path: '/d', method: 'POST', pagination: { type: 'offset', limit: 10, offset_param: 'page.from', limit_param: 'page.size', in: 'body' } },
    ]);
    expect(source.streams.map((s) => (s.pagination as { in: string }).in)).toEqual(['query', 'body', 'header', 'body']);
  });

  it.each([
    ['a body cursor on a GET', { name: 'a', path: '/a', pagination: cursor({ in: 'body' }) }, 'streams[0].pagination.in: in: body needs method: POST (a GET request has no body)'],
    [
      'a body path through a value that is not an object',
      { name: 'a', path: '/a', method: 'POST', body: { variables: 'x' }, pagination: cursor({ in: 'body' }) },
      'streams[0].pagination.param: "variables.after" goes through body.variables, which is not an object',
    ],
    [
      'a body path with an empty segment',
      { name: 'a', path: '/a', method: 'POST', body: {}, pagination: cursor({ in: 'body', param: 'variables..after' }) },
      'streams[0].pagination.param: "variables..after" is not a dotted path into the body (an empty segment)',
    ],
    [
      'a body that is not an object',
      { name: 'a', path: '/a', method: 'POST', body: ['x'], pagination: cursor({ in: 'body' }) },
      'streams[0].body: in: body needs a JSON object body to place the paging values in',
    ],
    ['a header name that is not one', { name: 'a', path: '/a', pagination: cursor({ in: 'header', param: 'X Cursor' }) }, 'streams[0].pagination.param: "X Cursor" is not a valid header name'],
    [
      'a credential header',
      { name: 'a', path: '/a', pagination: cursor({ in: 'header', param: 'Authorization' }) },
      'streams[0].pagination.param: the cursor cannot travel in the credential header Authorization',
    ],
    [
      'a header for page numbers',
      { name: 'a', path: '/a', pagination: { type: 'page_number', in: 'header' } },
      'streams[0].pagination.in: Invalid option: expected one of "query"|"body" (got "header")',
    ],
  ])('fails on %s', (_what, stream, message) => {
    expect(problems([stream]).some((p) => p.startsWith(message))).toBe(true);
  });
});

describe('JMESPath negation before a path', () => {
  it.each([
    ['!data.search.pageInfo.hasNextPage', 'data.search.pageInfo.hasNextPage', 'data'],
    ['!meta[0]', 'meta[0]', 'meta'],
    ['done || !page.more', 'page.more', 'page'],
  ])('refuses %s, which JMESPath reads as a field of a boolean (always null)', (expression, operand, head) => {
    expect(problems([{ name: 'a', path: '/a', pagination: { type: 'none', stop_when: expression } }])).toEqual([
      `streams[0].pagination.stop_when: "${expression}" reads as (!${head})… because JMESPath applies ! before the path, so it is always null: write !(${operand})`,
    ]);
  });

  it.each(['!has_more', '!(data.has_more)', 'a != b.c', "state == '!x.y'", 'length(data) < `3`'])('accepts %s', (expression) => {
    expect(problems([{ name: 'a', path: '/a', pagination: { type: 'none', stop_when: expression } }])).toEqual([]);
  });
});

describe('format', () => {
  it.each([
    ['json', { type: 'json' }],
    ['jsonl', { type: 'jsonl' }],
    ['csv', { type: 'csv', delimiter: ',', quote: '"' }],
    [
      { type: 'csv', delimiter: ';' },
      { type: 'csv', delimiter: ';', quote: '"' },
    ],
    [
      { type: 'xml', records: 'feed/entry' },
      { type: 'xml', records: 'feed/entry' },
    ],
  ])('reads format %j', (written, parsed) => {
    expect(parse([{ name: 'a', path: '/a', format: written }]).streams[0]!.format).toEqual(parsed);
  });

  it('defaults to json', () => {
    expect(parse([{ name: 'a', path: '/a' }]).streams[0]!.format).toEqual({ type: 'json' });
  });

  it.each([
    [
      'a CSV stream paged by a body cursor',
      { format: 'csv', pagination: { type: 'cursor', cursor: 'next', param: 'after' } },
      'streams[0].pagination.type: cursor paging reads the next cursor from the body',
    ],
    ['a JSON Lines stream paged by a next URL', { format: 'jsonl', pagination: { type: 'next_url', next: 'next' } }, 'streams[0].pagination.type: next_url paging reads the next URL from the body'],
    ['a CSV stream with stop_when', { format: 'csv', pagination: { type: 'page_number', stop_when: '!more' } }, 'streams[0].pagination.stop_when: stop_when is evaluated on the response body'],
    [
      'an XML stream with total_records',
      { format: { type: 'xml', records: 'a/b' }, pagination: { type: 'offset', limit: 5, total_records: 'n' } },
      'streams[0].pagination.total_records: total_records is evaluated',
    ],
    ['a CSV stream with records', { format: 'csv', records: 'data' }, 'streams[0].records: a csv body is read record by record'],
    ['a two-character delimiter', { format: { type: 'csv', delimiter: '||' } }, 'streams[0].format.delimiter: delimiter must be one character'],
    ['an XML record path that is not one', { format: { type: 'xml', records: 'feed//entry' } }, 'streams[0].format.records: an element path'],
    ['xml without a record path', { format: 'xml' }, 'streams[0].format'],
  ])('fails on %s', (_what, stream, message) => {
    const found = problems([{ name: 'a', path: '/a', ...stream }]);
    expect(
      found.some((p) => p.startsWith(message)),
      found.join('\n'),
    ).toBe(true);
  });

  it('pages a CSV stream by page number, offset, Link header or header cursor', () => {
    expect(
      problems(
        [{ type: 'page_number' }, { type: 'offset', limit: 10 }, { type: 'link_header' }, { type: 'header_cursor', header: 'Sforce-Locator', param: 'locator' }].map((pagination, i) => ({
          name: `s${i}`,
          path: '/a',
          format: 'csv',
          pagination,
        })),
      ),
    ).toEqual([]);
  });
});

describe('job', () => {
  const job = (extra: Record<string, unknown> = {}) => ({
    create: { path: '/jobs', body: { q: 'since {window.start}' } },
    id: 'id',
    poll: { path: '/jobs/{job.id}' },
    done_when: "state == 'done'",
    download: { path: '/jobs/{job.id}/results' },
    ...extra,
  });

  it('fills the defaults of a job stream, which has no path', () => {
    const stream = parse([{ name: 'a', format: 'csv', job: job() }]).streams[0]!;
    expect(stream.path).toBeUndefined();
    expect(stream.job).toMatchObject({ create: { method: 'POST', params: {} }, poll: { method: 'GET', every: '10s', timeout: '1h' }, download: { params: {} } });
  });

  it.each([
    ['a stream without a path or a job', { name: 'a' }, 'streams[0].path: required'],
    ['a job stream with a path', { name: 'a', path: '/a', job: job() }, 'streams[0].path: a job stream sends job.create'],
    ['a job stream with its own pagination', { name: 'a', job: job(), pagination: { type: 'link_header' } }, 'streams[0].pagination: a job stream is paged by job.download.pagination'],
    ['a download with both path and urls', { name: 'a', job: job({ download: { path: '/r', urls: 'url' } }) }, 'streams[0].job.download: give exactly one of path'],
    ['a download with neither path nor urls', { name: 'a', job: job({ download: {} }) }, 'streams[0].job.download: give exactly one of path'],
    ['paged urls', { name: 'a', job: job({ download: { urls: 'url', pagination: { type: 'link_header' } } }) }, 'streams[0].job.download.pagination: result files named by urls are not paged'],
    [
      'a password in download.base_url',
      { name: 'a', job: job({ download: { path: '/r', base_url: 'https://u:p@files.example.com' } }) },
      'streams[0].job.download.base_url: holds a user name or password',
    ],
    ['{job.id} in create', { name: 'a', job: job({ create: { path: '/jobs/{job.id}' } }) }, 'streams[0].job.create.path: unknown placeholder {job.id}'],
    ['an unknown placeholder in poll', { name: 'a', job: job({ poll: { path: '/jobs/{jobid}' } }) }, 'streams[0].job.poll.path: unknown placeholder {jobid}'],
    ['a JMESPath that does not parse', { name: 'a', job: job({ done_when: "state == 'done" }) }, 'streams[0].job.done_when:'],
    ['a poll interval that is not a duration', { name: 'a', job: job({ poll: { path: '/p', every: '10' } }) }, 'streams[0].job.poll.every: a duration'],
    ['{job.id} in a create header', { name: 'a', job: job({ create: { path: '/jobs', headers: { 'X-Job': '{job.id}' } } }) }, 'streams[0].job.create.headers.X-Job: unknown placeholder {job.id}'],
    [
      'an unknown placeholder in a poll header',
      { name: 'a', job: job({ poll: { path: '/p', headers: { 'X-Since': '{since}' } } }) },
      'streams[0].job.poll.headers.X-Since: unknown placeholder {since}',
    ],
    ['{job.key} in a stream header', { name: 'a', job: job(), headers: { 'Idempotency-Key': '{job.key}' } }, 'streams[0].headers.Idempotency-Key: "{job.key}" would be sent as written'],
    ['a window placeholder in a source header', { name: 'a', job: job() }, 'headers.X-Day: "{window.start_date}" would be sent as written', { 'X-Day': '{window.start_date}' }],
    [
      'a list in a form-encoded create body',
      { name: 'a', job: job({ create: { path: '/r', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: { 'columns[]': ['fee', 'net'] } } }) },
      'streams[0].job.create.body.columns[]: a form-encoded body (content-type application/x-www-form-urlencoded) holds strings, numbers and booleans, not ["fee","net"]',
    ],
    [
      'a nested mapping in a form-encoded poll body',
      { name: 'a', job: job({ poll: { path: '/p', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { parameters: { interval_start: 1 } } } }) },
      'streams[0].job.poll.body.parameters: a form-encoded body (content-type application/x-www-form-urlencoded) holds strings, numbers and booleans, not {"interval_start":1}',
    ],
    [
      'an unknown placeholder in a form-encoded create body',
      { name: 'a', job: job({ create: { path: '/r', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { since: '{window.begin}' } } }) },
      'streams[0].job.create.body.since: unknown placeholder {window.begin}',
    ],
    [
      'a CSV download paged by a body cursor',
      { name: 'a', format: 'csv', job: job({ download: { path: '/r', pagination: { type: 'cursor', cursor: 'n', param: 'c' } } }) },
      'streams[0].job.download.pagination.type: cursor paging reads',
    ],
  ])('fails on %s', (_what, stream, message, headers?: Record<string, string>) => {
    const found = problems([stream], headers ? { headers } : {});
    expect(
      found.some((p) => p.startsWith(message)),
      found.join('\n'),
    ).toBe(true);
  });

  it('takes placeholders in the headers of create, poll and download, and {job.key} in every request of the job', () => {
    const headers = { 'Idempotency-Key': '{job.key}', 'X-Window': '{window.start}..{window.end}' };
    const stream = {
      name: 'a',
      job: job({
        create: { path: '/r', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: { since: '{window.start_epoch}', limit: 10, dry: false, key: '{job.key}' } },
        poll: { path: '/jobs/{job.id}', headers: { ...headers, 'X-Job': '{job.id}' } },
        download: { path: '/jobs/{job.id}/results', headers: { 'X-Part': '{job.part.id}' } },
      }),
    };
    expect(problems([stream])).toEqual([]);
  });
});

describe('land: false', () => {
  it('defaults to landing every stream and takes a parent that only serves as parent', () => {
    const source = parse([{ ...repos, land: false }, issues]);
    expect(source.streams.map((s) => s.land)).toEqual([false, true]);
  });

  it.each([
    [
      'a stream nobody uses as a parent',
      [{ ...repos, land: false }],
      'streams[0].land: land: false, but no stream names "repos" as its parent.stream: it would never be paged (land it, make it a parent, or remove it)',
    ],
    [
      'typed columns',
      [{ ...repos, land: false, columns: [{ name: 'id', path: 'id', type: 'bigint' }] }, issues],
      'streams[0].columns: a stream with land: false has no table: columns describe nothing',
    ],
    ['a primary key', [{ ...repos, land: false, primary_key: ['id'] }, issues], 'streams[0].primary_key: a stream with land: false has no table: primary_key describes nothing'],
  ])('fails on %s', (_what, streams, message) => {
    expect(problems(streams)).toEqual([message]);
  });
});
