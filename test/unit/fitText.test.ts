import { describe, expect, it } from 'vitest';
import { truncate, visibleWidth, wrapText } from '../../cli/terminal/fitText.js';

describe('fitting text to a terminal', () => {
  it('measures code points and ignores escape sequences', () => {
    expect(visibleWidth('\x1b[K✓ 12/30 · ok')).toBe(12);
  });

  it.each([
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['a little too long', 10, 'a little …'],
  ])('truncates %j to %i columns', (text, width, expected) => expect(truncate(text, width)).toBe(expected));

  it('wraps at spaces, indents continuation lines, and breaks words longer than a line', () => {
    const lines = wrapText(
      '  ✗ items [2024-01-01T07:00:00Z, 2024-01-01T08:00:00Z) (1h): HTTP 503 after 2 attempts (GET http://127.0.0.1:40000/page?since=2024-01-01T07%3A00%3A00.000Z&until=x)',
      40,
      '      ',
    );
    for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe('  ✗ items [2024-01-01T07:00:00Z,');
    expect(lines.slice(1).every((l) => l.startsWith('      '))).toBe(true);
    // Nothing is lost: the words come back in order.
    expect(
      lines
        .map((l) => l.trim())
        .join(' ')
        .replace(/\s+/g, ' '),
    ).toContain('HTTP 503 after 2 attempts');
    expect(lines.join('').replace(/\s/g, '')).toBe(
      '✗items[2024-01-01T07:00:00Z,2024-01-01T08:00:00Z)(1h):HTTP503after2attempts(GEThttp://127.0.0.1:40000/page?since=2024-01-01T07%3A00%3A00.000Z&until=x)',
    );
  });

  it('keeps existing line breaks', () => {
    expect(wrapText('one\ntwo', 80)).toEqual(['one', 'two']);
  });
});
