import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { buildFirstRequest, type ParentPlaceholders } from '../../functions/engine/buildRequest.js';
import { envelopeChunk, envelopePrefix } from '../../functions/sink/envelopeChunk.js';
import { parentKeyOf, selectParentKey } from '../../functions/engine/parentKey.js';
import { parsePage } from '../../functions/body/RecordParser.js';
import { compilePath } from '../../functions/expressions/compilePath.js';
import { envelopeLines } from '../../functions/sink/lakeLayout.js';
import { testSource } from '../support/sources.js';

const ref = { source: 'gh', stream: 'issues', window: { start: new Date('2024-01-01T10:00:00Z'), end: new Date('2024-01-01T11:00:00Z') } };
const fields = { runId: '20240101T110000Z-abc', extractedAt: new Date('2024-01-01T11:00:01.5Z') };

describe('parent keys', () => {
  it.each<[unknown, string, string, string | number]>([
    ['aws-cdk', '"aws-cdk"', 'aws-cdk', 'aws-cdk'],
    ['a "quoted" ✓', '"a \\"quoted\\" ✓"', 'a "quoted" ✓', 'a "quoted" ✓'],
    ['', '""', '', ''],
    [42, '42', '42', 42],
    [1.5, '1.5', '1.5', 1.5],
    [new LosslessNumber('0.1000'), '0.1000', '0.1000', 0.1],
    [new LosslessNumber('-0'), '-0', '-0', -0],
    [new LosslessNumber('1E3'), '1E3', '1E3', 1000],
  ])('takes %j as _parent %s, {as} %j in text and %j alone in a body', (raw, json, text, value) => {
    expect(parentKeyOf(raw)).toEqual({ json, text, value });
  });

  it('keeps a key past 2^53 exact in _parent and in the placeholder', () => {
    const record = parse('{"id":9007199254740993}');
    const raw = compilePath('id')(record);
    expect(isLosslessNumber(raw)).toBe(true);
    expect(parentKeyOf(raw)).toEqual({ json: '9007199254740993', text: '9007199254740993', value: '9007199254740993' });
  });

  it.each([null, undefined, true, {}, [], Number.NaN])('refuses %j as a key', (raw) => {
    expect(parentKeyOf(raw)).toBeUndefined();
  });

  it.each<[string, string, string]>([
    ['{"id":0.1000}', 'id', '0.1000'],
    ['{"id":-0}', 'id', '-0'],
    ['{"id":1.50,"big":12345678901234567890}', 'id', '1.50'],
    ['{"id":1e2}', 'id', '1e2'],
    ['{"ids":[7.0,8]}', 'ids[0]', '7.0'],
    ['{"meta":{"id":3.10}}', 'meta.id', '3.10'],
    ['{"id":"0.1000"}', 'id', '"0.1000"'],
  ])('selects the key of %s at %s as the text the API sent: %s', (json, path, expected) => {
    const batch = parsePage(Buffer.from(`[${json}]`), { records: '@' }).records;
    expect(parentKeyOf(selectParentKey(batch, 0, compilePath(path)))?.json).toBe(expected);
  });

  it('keeps a number an expression computes as it is, since the API sent no text of it', () => {
    const batch = parsePage(Buffer.from('[{"scores":[1.50,2.75]}]'), { records: '@' }).records;
    expect(parentKeyOf(selectParentKey(batch, 0, compilePath('max(scores)')))?.json).toBe('2.75'); // selected, as sent
    expect(selectParentKey(batch, 0, compilePath('sum(scores)'))).toBe(4.25);
    expect(selectParentKey(batch, 0, compilePath('length(scores)'))).toBe(2);
  });
});

describe('the envelope of a child record', () => {
  it('puts "_parent" between "_run_id" and "data", and leaves other lines as they were', () => {
    const batch = parsePage(Buffer.from('[{"n":1},{"n":2}]'), { records: '@' }).records;
    const lines = envelopeChunk(envelopePrefix(ref, { ...fields, parent: '"aws-cdk"' }), batch)
      .toString()
      .split('\n');
    expect(lines[0]).toBe(
      '{"_source":"gh","_stream":"issues","_window_start":"2024-01-01T10:00:00Z","_window_end":"2024-01-01T11:00:00Z","_extracted_at":"2024-01-01T11:00:01.500Z","_run_id":"20240101T110000Z-abc","_parent":"aws-cdk","data":{"n":1}}',
    );
    expect(JSON.parse(lines[1]!)).toMatchObject({ _parent: 'aws-cdk', data: { n: 2 } });
    expect(envelopeChunk(envelopePrefix(ref, fields), batch).toString()).toBe(envelopeLines(ref, fields, [{ n: 1 }, { n: 2 }]).join(''));
  });
});

describe('the first request of a child', () => {
  /** Parent placeholders as streamPages builds them, from raw keys. */
  const parents = (keys: Record<string, unknown>): ParentPlaceholders =>
    Object.fromEntries(Object.entries(keys).map(([name, raw]) => [name, { key: parentKeyOf(raw)!, record: 'parent stream "repos" page 2, record 3', request: 'GET https://api.test/repos?page=2' }]));

  it('fills {as} in path (encoded), params and body, a lone number staying a number', () => {
    const source = testSource('https://api.test', {
      path: '/repos/{repo}/issues',
      method: 'POST',
      params: { label: 'repo:{repo}', since: '{window.start}' },
      body: { repo: '{repo}', id: '{id}', text: 'id {id}' },
      // Stand-ins, so the placeholders validate without a parent stream; the parent's values win.
      vars: { repo: 'unused', id: 'unused' },
    });
    const request = buildFirstRequest(source, source.streams[0]!, ref.window, parents({ repo: 'a/b c', id: 7 }));
    expect(request.url.pathname).toBe('/repos/a%2Fb%20c/issues');
    expect(request.url.searchParams.get('label')).toBe('repo:a/b c');
    expect(request.body).toEqual({ repo: 'a/b c', id: 7, text: 'id 7' });
  });

  it('fills a number key as the exact text the API sent, and alone in a body as its value', () => {
    const source = testSource('https://api.test', { path: '/items/{id}/parts', method: 'POST', params: { of: '{id}' }, body: { id: '{id}', text: 'id {id}' }, vars: { id: 'unused' } });
    for (const [text, value] of [
      ['0.1000', 0.1],
      ['-0', -0],
      ['9007199254740993', '9007199254740993'],
    ] as const) {
      const request = buildFirstRequest(source, source.streams[0]!, ref.window, parents({ id: new LosslessNumber(text) }));
      expect(request.url.pathname).toBe(`/items/${text}/parts`);
      expect(request.url.searchParams.get('of')).toBe(text);
      expect(request.body).toEqual({ id: value, text: `id ${text}` });
    }
  });

  it.each([
    ['..', '"." and ".." are path steps that would call another endpoint'],
    ['.', '"." and ".." are path steps that would call another endpoint'],
    ['', 'an empty key leaves "//" in the path, which servers that merge slashes route to another endpoint (parent.skip_empty: true skips such parents)'],
  ])('fails if a parent key %j fills the path, naming the parent record', (key, why) => {
    const source = testSource('https://api.test', { path: '/repos/{repo}/issues', vars: { repo: 'unused' } });
    expect(() => buildFirstRequest(source, source.streams[0]!, ref.window, parents({ repo: key }))).toThrow(
      `parent stream "repos" page 2, record 3: parent key ${JSON.stringify(key)} cannot fill {repo} in the path /repos/{repo}/issues of stream "items": ${why} (GET https://api.test/repos?page=2)`,
    );
    // In a query parameter it is only text.
    const query = testSource('https://api.test', { path: '/issues', params: { repo: '{repo}' }, vars: { repo: 'unused' } });
    expect(buildFirstRequest(query, query.streams[0]!, ref.window, parents({ repo: key })).url.searchParams.get('repo')).toBe(key);
  });
});
