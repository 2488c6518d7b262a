import { search } from '@aws-lambda-powertools/jmespath';
import { describe, expect, it } from 'vitest';
import { parseRecordsPath } from '../../functions/expressions/recordsPath.js';

type Json = Parameters<typeof search>[1];

const body = { data: { items: [1], 'odd key': { x: [2] } }, results: [3], 'odd key': { items: [4] }, é: [5], a: { b: { c: [6] } }, _x9: [7] } as const;

function follow(keys: readonly string[], value: unknown): unknown {
  let current = value;
  for (const key of keys) current = current !== null && typeof current === 'object' && !Array.isArray(current) ? ((current as Record<string, unknown>)[key] ?? null) : null;
  return current;
}

describe('parseRecordsPath', () => {
  it.each([
    ['@', []],
    ['data', ['data']],
    ['data.items', ['data', 'items']],
    [' data . items ', ['data', 'items']],
    ['results', ['results']],
    ['"odd key".items', ['odd key', 'items']],
    ['data."odd key".x', ['data', 'odd key', 'x']],
    ['"\\u00e9"', ['é']],
    ['"é"', ['é']],
    ['a.b.c', ['a', 'b', 'c']],
    ['_x9', ['_x9']],
  ])('reads %s as the key path %j, following it as Powertools JMESPath does', (expression, keys) => {
    expect(parseRecordsPath(expression)).toEqual({ kind: 'keys', keys });
    expect(follow(keys, body)).toEqual(search(expression, body as unknown as Json));
  });

  it.each([
    'data[0]',
    'data[*]',
    'data[]',
    '@.data',
    'data | [0]',
    "data[?x=='y']",
    'length(data)',
    'data.*',
    'data.[a]',
    'data.{a: a}',
    '*',
    '`[]`',
    'data.0',
    '"" ',
    'a..b',
    '.a',
    'a.',
    '"unterminated',
  ])('leaves %s to the JMESPath fallback', (expression) => expect(parseRecordsPath(expression)).toEqual({ kind: 'expression', expression }));
});
