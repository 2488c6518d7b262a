import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { AbortedError } from '../../functions/errors.js';
import { pagedOncePerRun, ParentKeyCache } from '../../functions/engine/ParentKeyCache.js';

const source = (parent: Record<string, unknown>, grandparent?: Record<string, unknown>) =>
  parseSource(
    JSON.stringify({
      name: 'org',
      schedule: 'rate(1 hour)',
      base_url: 'https://api.test',
      streams: [
        ...(grandparent ? [{ name: 'orgs', path: '/orgs', land: false, ...grandparent }] : []),
        { name: 'repos', path: '/repos', land: false, ...parent },
        { name: 'issues', path: '/repos/{repo}/issues', params: { since: '{window.start}' }, parent: { stream: 'repos', key: 'name', as: 'repo' } },
      ],
    }),
    'org.yaml',
  );
const repos = (s: ReturnType<typeof source>) => s.streams.find((x) => x.name === 'repos')!;

describe('pagedOncePerRun', () => {
  it.each([
    ['a request without window placeholders', {}, undefined, true],
    ['vars and literal params', { params: { per_page: 100, type: 'all' } }, undefined, true],
    ['{window.start} in a param', { params: { since: '{window.start}' } }, undefined, false],
    ['{window.end_date} in the path', { path: '/repos/{window.end_date}' }, undefined, false],
    ['a formatted window placeholder in a param', { params: { q: 'updated >= "{window.start:yyyy-MM-dd}"' } }, undefined, false],
    ['a window placeholder deep in a POST body', { method: 'POST', body: { query: 'q', variables: { from: ['{window.start_epoch}'] } } }, undefined, false],
    ['a window-free POST body', { method: 'POST', body: { query: 'q', variables: { first: 100 } } }, undefined, true],
    ["incremental (it keeps the window's records only)", { incremental: { cursor_field: 'updated_at' } }, undefined, false],
    ['a window-free parent of its own', { path: '/orgs/{org}/repos', parent: { stream: 'orgs', key: 'login', as: 'org' } }, {}, true],
    ['a parent of its own that depends on the window', { path: '/orgs/{org}/repos', parent: { stream: 'orgs', key: 'login', as: 'org' } }, { params: { since: '{window.start}' } }, false],
  ])('%s: %s', (_what, parent, grandparent, expected) => {
    const s = source(parent, grandparent);
    expect(pagedOncePerRun(s, repos(s))).toBe(expected);
  });
});

describe('ParentKeyCache', () => {
  it('pages once for every window that asks, concurrent ones included', async () => {
    const cache = new ParentKeyCache();
    let loads = 0;
    let release!: (keys: string[]) => void;
    const load = () => {
      loads++;
      return new Promise<string[]>((resolve) => (release = resolve));
    };
    const waiting = [cache.keys('repos', load), cache.keys('repos', load)];
    release(['a', 'b']);
    expect(await Promise.all(waiting)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(await cache.keys('repos', load)).toEqual(['a', 'b']);
    expect(loads).toBe(1);
  });

  it('keeps parents apart by id', async () => {
    const cache = new ParentKeyCache();
    expect(await cache.keys('a', () => Promise.resolve(1))).toBe(1);
    expect(await cache.keys('b', () => Promise.resolve(2))).toBe(2);
  });

  it('forgets a paging that failed, so the next window pages again', async () => {
    const cache = new ParentKeyCache();
    await expect(cache.keys('repos', () => Promise.reject(new Error('HTTP 503')))).rejects.toThrow('HTTP 503');
    expect(await cache.keys('repos', () => Promise.resolve(['a']))).toEqual(['a']);
  });

  it("ends a window's wait when its signal aborts, leaving the paging to the others", async () => {
    const cache = new ParentKeyCache();
    let release!: (keys: string[]) => void;
    const paging = new Promise<string[]>((resolve) => (release = resolve));
    const stop = new AbortController();
    const stopped = cache.keys('repos', () => paging, stop.signal);
    const other = cache.keys('repos', () => Promise.reject(new Error('paged twice')));
    stop.abort('Ctrl-C');
    await expect(stopped).rejects.toBeInstanceOf(AbortedError);
    release(['a']);
    expect(await other).toEqual(['a']);
  });
});
