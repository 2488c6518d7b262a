/**
 * Fitting text to a terminal's width: a line longer than the terminal wraps, and a wrapped
 * progress line can no longer be redrawn in place, so everything printed on a terminal is
 * truncated or wrapped here first.
 */

// CSI sequences (colours, erase line): they take no columns.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Columns `text` takes: code points without escape sequences (apilake prints no wide characters). */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** `text` cut to `width` columns, ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  if (width <= 0) return '';
  return `${[...text.replace(ANSI, '')].slice(0, width - 1).join('')}…`;
}

/**
 * Word-wraps `text` to `width` columns; continuation lines start with `indent`. A word longer
 * than a line is broken where the line ends. Existing newlines are kept.
 */
export function wrapText(text: string, width: number, indent = '    '): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    // Leading spaces (a list's indentation) stay on the first line.
    const lead = /^ */.exec(paragraph)![0];
    let line = lead;
    let empty = true;
    for (const word of paragraph.slice(lead.length).split(/ +/).filter(Boolean)) {
      const gap = empty ? '' : ' ';
      if (visibleWidth(line) + gap.length + visibleWidth(word) <= width) {
        line += gap + word;
        empty = false;
        continue;
      }
      if (!empty) {
        lines.push(line);
        line = indent;
      }
      let chars = [...word];
      while (visibleWidth(line) + chars.length > width) {
        const room = Math.max(1, width - visibleWidth(line));
        lines.push(line + chars.slice(0, room).join(''));
        chars = chars.slice(room);
        line = indent;
      }
      line += chars.join('');
      empty = chars.length === 0;
    }
    lines.push(line);
  }
  return lines;
}
