/**
 * Compiles a column's JMESPath into a function over one record. A dotted path of plain
 * identifiers (`id`, `user.login`) becomes direct property reads, and a projection of one
 * (`labels[].name`) a loop over them: about 20× faster than the JMESPath interpreter
 * (bench/parquet.ts measures both). Anything else goes through Powertools' JMESPath, whose
 * parser caches the expression.
 */

import { search } from '@aws-lambda-powertools/jmespath';

type JsonObject = Parameters<typeof search>[1];

/** A compiled path: the value at the path, `null` when it does not exist (as JMESPath defines). */
export type CompiledPath = (record: unknown) => unknown;

/** `a`, `a.b`, `a_1.b2`: JMESPath unquoted identifiers joined by dots. */
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** `labels[].name`: a dotted path to an array, projected through a dotted path. */
const PROJECTION = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\[\]\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/;

/** The field names of a dotted path (`a.b` → `['a', 'b']`), or undefined for any other expression. */
export function dottedFields(expression: string): readonly string[] | undefined {
  return DOTTED.test(expression) ? expression.split('.') : undefined;
}

/**
 * Compiles a JMESPath expression. The function throws what the interpreter throws for a
 * runtime type error (e.g. a function applied to the wrong type); callers decide what that means.
 */
export function compilePath(expression: string): CompiledPath {
  const projection = PROJECTION.exec(expression);
  if (projection) {
    const list = compilePath(projection[1]!);
    const each = compilePath(projection[2]!);
    // JMESPath list projection: null unless an array; elements projecting to null are dropped.
    return (record) => {
      const value = list(record);
      if (!Array.isArray(value)) return null;
      const out: unknown[] = [];
      for (const element of value) {
        const projected = each(element);
        if (projected !== null) out.push(projected);
      }
      return out;
    };
  }
  const fields = dottedFields(expression);
  if (fields === undefined) return (record) => search(expression, record as JsonObject) ?? null;
  if (fields.length === 1) {
    const [only] = fields as [string];
    return (record) => field(record, only);
  }
  return (record) => {
    let value = record;
    for (const name of fields) {
      value = field(value, name);
      if (value === null) return null;
    }
    return value;
  };
}

/**
 * JMESPath field access: an object's own property, else null (arrays and scalars have no fields;
 * inherited names such as `constructor` are not fields of a parsed record).
 */
function field(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name)) return null;
  const found = (value as Record<string, unknown>)[name];
  return found === undefined ? null : found;
}

/** `true` when the expression parses as JMESPath, else the parser's message. */
export function isJmespath(expression: string): true | string {
  try {
    search(expression, {});
    return true;
  } catch (error) {
    // A type error on the empty document means the syntax parsed; only syntax matters here.
    const name = (error as Error).name;
    const syntax = ['ParseError', 'LexerError', 'IncompleteExpressionError', 'EmptyExpressionError', 'UnknownFunctionError'];
    return syntax.includes(name) ? (error as Error).message : true;
  }
}
