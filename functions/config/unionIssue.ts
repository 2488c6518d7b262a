/**
 * Reads zod's `invalid_union` issue, whose own message is a bare "Invalid input", for what a value
 * that matched no option of a union should have been.
 */

import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** What to report for a value that matched no option of a union. */
export type UnionReading =
  /** The value has the shape of one option only: that option's own issues, paths relative to the value, say what is wrong inside it. */
  | { readonly kind: 'inside'; readonly issues: readonly Issue[] }
  /** The value is of a kind no option takes: what the options take, e.g. `a string, number or boolean`. */
  | { readonly kind: 'expected'; readonly expected: string }
  /** Nothing more precise than zod's message. */
  | { readonly kind: 'unknown' };

/** Zod's names for kinds of value, as a YAML author calls them. */
const KIND_NAMES: Readonly<Record<string, string>> = { object: 'mapping', array: 'list' };

/**
 * Reads a union issue: when every option rejected the value itself (a wrong type or a value not
 * listed), it lists what the options take; when exactly one option got past the value's type, its
 * issues are the ones that explain the failure.
 * @example unionReading(issueOf(z.union([z.string(), z.number()]), [1])) // { kind: 'expected', expected: 'a string or number' }
 */
export function unionReading(issue: Issue): UnionReading {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { kind: 'unknown' };
  const inside = issue.errors.filter((option) => option.some((i) => !rejectsValueItself(i)));
  if (inside.length === 1) return { kind: 'inside', issues: inside[0]! };
  if (inside.length > 1) return { kind: 'unknown' };
  const taken = [...new Set(issue.errors.flatMap(optionTakes))];
  return { kind: 'expected', expected: listed(taken) };
}

/** An issue about the value as a whole: its type, or a value outside a list, in this option or a union nested in it. */
function rejectsValueItself(issue: Issue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type' || issue.code === 'invalid_value') return true;
  return issue.code === 'invalid_union' && issue.errors.length > 0 && issue.errors.every((option) => option.every(rejectsValueItself));
}

/** What one option takes, each entry either a kind (`string`) or a literal value (`"json"`). */
function optionTakes(option: readonly Issue[]): string[] {
  return option.flatMap((issue): string[] => {
    switch (issue.code) {
      case 'invalid_type':
        return [KIND_NAMES[issue.expected] ?? issue.expected];
      case 'invalid_value':
        return issue.values.map((v) => JSON.stringify(v));
      case 'invalid_union':
        return issue.errors.flatMap(optionTakes);
      default:
        return [];
    }
  });
}

/** `a string, number or boolean`; a literal value is written as it is (`"json", "csv" or a mapping`), the first kind takes the article. */
function listed(taken: readonly string[]): string {
  const firstKind = taken.findIndex((t) => !t.startsWith('"'));
  const words = taken.map((t, i) => (i === firstKind ? `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}` : t));
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
