/** A JUnit XML report of `apilake test`, the format CI systems read (one test case per cassette). */

/** One test case: a cassette, or a stream's drift check. */
export interface JunitCase {
  /** `<source>.<stream>`. */
  readonly classname: string;
  /** The window. */
  readonly name: string;
  readonly seconds: number;
  /** Why it failed, one line each; empty when it passed. */
  readonly failures: readonly string[];
  /** The cassette file, for the report's `file` attribute. */
  readonly file?: string;
}

/** The report of one source's test run. */
export function junitXml(suite: string, cases: readonly JunitCase[]): string {
  const failed = cases.filter((c) => c.failures.length > 0).length;
  const seconds = cases.reduce((s, c) => s + c.seconds, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="apilake" tests="${cases.length}" failures="${failed}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failed}" errors="0" skipped="0" time="${seconds.toFixed(3)}">`,
  ];
  for (const c of cases) {
    const attributes = `classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}"${c.file ? ` file="${xml(c.file)}"` : ''}`;
    if (c.failures.length === 0) {
      lines.push(`    <testcase ${attributes}/>`);
      continue;
    }
    lines.push(`    <testcase ${attributes}>`, `      <failure message="${xml(c.failures[0]!)}">${xml(c.failures.join('\n'))}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/** Text as XML character data or an attribute value; characters XML 1.0 cannot hold become U+FFFD. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;');
}
