/**
 * The type grammar of a stream's typed columns (`columns[].type` in a source definition):
 * ```
 * type := string | bigint | double | boolean | timestamp | date | json
 *       | decimal(<precision>, <scale>)      1 ≤ precision ≤ 38, 0 ≤ scale ≤ precision
 *       | array<type>                        nests up to MAX_ARRAY_DEPTH levels
 * ```
 * Spelled as Hive/Glue spells it, so the text a user writes is the text Glue shows. Each engine
 * gets its own spelling of the same type from the functions below.
 */

/** The scalar type names. */
export const SCALAR_TYPES = ['string', 'bigint', 'double', 'boolean', 'timestamp', 'date', 'json'] as const;

/** A scalar type name. */
export type ScalarTypeName = (typeof SCALAR_TYPES)[number];

/** A parsed column type. */
export type ColumnType =
  { readonly kind: ScalarTypeName } | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number } | { readonly kind: 'array'; readonly element: ColumnType };

/** Largest decimal precision Athena, Glue and DuckDB all accept. */
export const MAX_DECIMAL_PRECISION = 38;
/** Deepest nesting of `array<…>` accepted: deeper lists are better kept as `json`. */
export const MAX_ARRAY_DEPTH = 4;

/** What {@link parseColumnType} returns: the type, or why the text is not one. */
export type ParsedColumnType = { readonly ok: true; readonly type: ColumnType } | { readonly ok: false; readonly message: string };

const GRAMMAR = `string, bigint, double, boolean, timestamp, date, json, decimal(p,s) or array<type>`;

/**
 * Parses a type written in a source definition. Case and blanks around tokens are ignored.
 * @example parseColumnType('array<decimal(10, 2)>') // { ok: true, type: { kind: 'array', element: { kind: 'decimal', precision: 10, scale: 2 } } }
 */
export function parseColumnType(text: string): ParsedColumnType {
  const source = text.trim().toLowerCase();
  let at = 0;
  const fail = (message: string): ParsedColumnType => ({ ok: false, message: `"${text}" is not a column type: ${message}; expected ${GRAMMAR}` });
  const blanks = () => {
    while (source[at] === ' ' || source[at] === '\t') at++;
  };
  const word = () => {
    const m = /^[a-z]+/.exec(source.slice(at));
    at += m ? m[0].length : 0;
    return m?.[0];
  };
  const integer = () => {
    blanks();
    const m = /^\d{1,3}/.exec(source.slice(at));
    at += m ? m[0].length : 0;
    blanks();
    return m ? Number(m[0]) : undefined;
  };
  const expect = (char: string) => {
    blanks();
    if (source[at] !== char) return false;
    at++;
    blanks();
    return true;
  };

  const parse = (depth: number): ColumnType | string => {
    blanks();
    const name = word();
    if (name === undefined) return `expected a type name at position ${at + 1}`;
    if ((SCALAR_TYPES as readonly string[]).includes(name)) return { kind: name as ScalarTypeName };
    if (name === 'decimal') {
      if (!expect('(')) return 'decimal needs (precision, scale)';
      const precision = integer();
      if (precision === undefined || !expect(',')) return 'decimal needs (precision, scale)';
      const scale = integer();
      if (scale === undefined || !expect(')')) return 'decimal needs (precision, scale)';
      if (precision < 1 || precision > MAX_DECIMAL_PRECISION) return `decimal precision ${precision} is outside 1..${MAX_DECIMAL_PRECISION}`;
      if (scale > precision) return `decimal scale ${scale} is larger than its precision ${precision}`;
      return { kind: 'decimal', precision, scale };
    }
    if (name === 'array') {
      if (depth >= MAX_ARRAY_DEPTH) return `arrays nest at most ${MAX_ARRAY_DEPTH} deep (use json for deeper values)`;
      if (!expect('<')) return 'array needs an element type: array<type>';
      const element = parse(depth + 1);
      if (typeof element === 'string') return element;
      if (!expect('>')) return `expected ">" at position ${at + 1}`;
      return { kind: 'array', element };
    }
    return `unknown type name "${name}"`;
  };

  const type = parse(0);
  if (typeof type === 'string') return fail(type);
  blanks();
  if (at < source.length) return fail(`unexpected "${source.slice(at)}" after the type`);
  return { ok: true, type };
}

/** The canonical text of a type, which is also its Hive/Glue spelling (`array<decimal(10,2)>`). */
export function formatColumnType(type: ColumnType): string {
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'array':
      return `array<${formatColumnType(type.element)}>`;
    default:
      return type.kind;
  }
}

/**
 * Names a typed column may not take: the envelope's (the lake's JSON lines carry `_source`, …,
 * `_parent` and `data`) and the partition's (`dt`). The tables' envelope columns are checked against
 * this list by a test.
 */
export const RESERVED_COLUMN_NAMES: ReadonlySet<string> = new Set(['_source', '_stream', '_window_start', '_window_end', '_extracted_at', '_run_id', '_parent', 'data', 'dt']);
