import { search } from '@aws-lambda-powertools/jmespath';
import { describe, expect, it } from 'vitest';
import { lazyRecordsArray } from '../../functions/body/lazyRecordsArray.js';
import { parsePage } from '../../functions/body/RecordParser.js';

describe('RecordBatch', () => {
  const { records } = parsePage(Buffer.from('{"data":[{"a":1}, "x" ,[2]]}'), { records: 'data' });

  it('gives bytes, text and values by index, and iterates in order', () => {
    expect(records.count).toBe(3);
    expect(records.byteLength).toBe(13);
    expect(records.bytes(1).toString()).toBe('"x"');
    expect(records.text(2)).toBe('[2]');
    expect(records.value(0)).toEqual({ a: 1 });
    expect([...records].map(String)).toEqual(['{"a":1}', '"x"', '[2]']);
  });

  it.each([-1, 3, 1.5, Number.NaN])('fails on record %s, which is not in the batch', (i) => expect(() => records.bytes(i)).toThrow(RangeError));

  it('slices and compacts without changing the records', () => {
    const tail = records.slice(1);
    expect([...tail].map(String)).toEqual(['"x"', '[2]']);
    const compact = tail.compact();
    expect(compact.source.length).toBe(6);
    expect([...compact].map(String)).toEqual(['"x"', '[2]']);
  });
});

describe('lazyRecordsArray', () => {
  it('parses an element only when read, once, and looks like an array to Powertools JMESPath', () => {
    const loads: number[] = [];
    const array = lazyRecordsArray(4, (i) => {
      loads.push(i);
      return { id: i * 10 };
    });
    expect(Array.isArray(array)).toBe(true);
    expect(Object.prototype.toString.call(array)).toBe('[object Array]');
    expect(search('[-1].id', array as never)).toBe(30);
    expect(search('length(@)', array as never)).toBe(4);
    expect(loads).toEqual([3]);
    expect(search('[-1].id', array as never)).toBe(30);
    expect(loads).toEqual([3]);
    expect(search('[*].id', array as never)).toEqual([0, 10, 20, 30]);
    expect(loads.sort()).toEqual([0, 1, 2, 3]);
  });

  it('behaves as an array to JSON.stringify, spread, Object.keys and the in operator', () => {
    const array = lazyRecordsArray(2, (i) => i);
    expect(JSON.stringify(array)).toBe('[0,1]');
    expect([...array]).toEqual([0, 1]);
    expect(Object.keys(array)).toEqual(['0', '1']);
    expect(1 in array).toBe(true);
    expect(2 in array).toBe(false);
    expect(array[5]).toBeUndefined();
    expect(array.length).toBe(2);
  });
});
