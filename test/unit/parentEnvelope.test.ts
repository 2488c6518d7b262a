import { parse, isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { buildFirstRequest } from '../../functions/engine/buildRequest.js';
import { envelopeChunk, envelopePrefix } from '../../functions/sink/envelopeChunk.js';
import { parentKeyOf } from '../../functions/engine/parentKey.js';
import { parsePage } from '../../functions/body/RecordParser.js';
import { compilePath } from '../../functions/expressions/compilePath.js';
import { envelopeLines } from '../../functions/sink/lakeLayout.js';
import { testSource } from '../support/sources.js';

const ref = { source: 'gh', stream: 'issues', window: { start: new Date('2024-01-01T10:00:00Z'), end: new Date('2024-01-01T11:00:00Z') } };
const fields = { runId: '20240101T110000Z-abc', extractedAt: new Date('2024-01-01T11:00:01.5Z') };

describe('parent keys', () => {
  it.each<[unknown, string, string | number]>([
    ['aws-cdk', '"aws-cdk"', 'aws-cdk'],
    ['a "quoted" ✓', '"a \\"quoted\\" ✓"', 'a "quoted" ✓'],
    [42, '42', 42],
    [1.5, '1.5', 1.5],
  ])('takes %j as _parent %s and {as} %j', (raw, json, value) => {
    expect(parentKeyOf(raw)).toEqual({ json, value });
  });

  it('keeps a key past 2^53 exact in _parent and in the placeholder', () => {
    const record = parse('{"id":9007199254740993}');
    const raw = compilePath('id')(record);
    expect(isLosslessNumber(raw)).toBe(true);
    expect(parentKeyOf(raw)).toEqual({ json: '9007199254740993', value: '9007199254740993' });
  });

  it.each([null, undefined, true, {}, [], Number.NaN])('refuses %j as a key', (raw) => {
    expect(parentKeyOf(raw)).toBeUndefined();
  });
});

describe('the envelope of a child record', () => {
  it('puts "_parent" between "_run_id" and "data", and leaves other lines as they were', () => {
    const batch = parsePage(Buffer.from('[{"n":1},{"n":2}]'), { records: '@' }).records;
    const lines = envelopeChunk(envelopePrefix(ref, { ...fields, parent: '"aws-cdk"' }), batch).toString().split('\n');
    expect(lines[0]).toBe('{"_source":"gh","_stream":"issues","_window_start":"2024-01-01T10:00:00Z","_window_end":"2024-01-01T11:00:00Z","_extracted_at":"2024-01-01T11:00:01.500Z","_run_id":"20240101T110000Z-abc","_parent":"aws-cdk","data":{"n":1}}');
    expect(JSON.parse(lines[1]!)).toMatchObject({ _parent: 'aws-cdk', data: { n: 2 } });
    expect(envelopeChunk(envelopePrefix(ref, fields), batch).toString()).toBe(envelopeLines(ref, fields, [{ n: 1 }, { n: 2 }]).join(''));
  });
});

describe('the first request of a child', () => {
  it('fills {as} in path (encoded), params and body, a lone number staying a number', () => {
    const source = testSource('https://api.test', {
      path: '/repos/{repo}/issues',
      method: 'POST',
      params: { label: 'repo:{repo}', since: '{window.start}' },
      body: { repo: '{repo}', id: '{id}', text: 'id {id}' },
      // Stand-ins, so the placeholders validate without a parent stream; the parent's values win.
      vars: { repo: 'unused', id: 'unused' },
    });
    const request = buildFirstRequest(source, source.streams[0]!, ref.window, { repo: 'a/b c', id: 7 });
    expect(request.url.pathname).toBe('/repos/a%2Fb%20c/issues');
    expect(request.url.searchParams.get('label')).toBe('repo:a/b c');
    expect(request.body).toEqual({ repo: 'a/b c', id: 7, text: 'id 7' });
  });

  it.each(['..', '.'])('refuses a parent key %j in the path, which would steer the request to another endpoint', (key) => {
    const source = testSource('https://api.test', { path: '/repos/{repo}/issues', vars: { repo: 'unused' } });
    expect(() => buildFirstRequest(source, source.streams[0]!, ref.window, { repo: key })).toThrow(
      `parent key "${key}" cannot fill {repo} in the path: "." and ".." are path steps that would call another endpoint (stream "items" path /repos/{repo}/issues)`,
    );
    // In a query parameter it is only text.
    const query = testSource('https://api.test', { path: '/issues', params: { repo: '{repo}' }, vars: { repo: 'unused' } });
    expect(buildFirstRequest(query, query.streams[0]!, ref.window, { repo: key }).url.searchParams.get('repo')).toBe(key);
  });
});
