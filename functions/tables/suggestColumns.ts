/**
 * `apilake schema suggest`: turns DuckDB's JSON type inference over committed records into a
 * `primary_key:`/`columns:` block the user pastes under the stream. DuckDB does the inference
 * ({@link recordTypeSql}); this module only reads the type it returns, e.g.
 * `STRUCT(id BIGINT, "user" STRUCT(login VARCHAR), labels STRUCT("name" VARCHAR)[])`, and maps
 * it to columns:
 * - scalars become columns (integers bigint, HUGEINT decimal(38,0), DECIMAL(p,s), DOUBLE/FLOAT
 *   double, VARCHAR/UUID/TIME string, BOOLEAN, DATE, every TIMESTAMP timestamp);
 * - nested objects are flattened (`user.login` → `user_login`) down to {@link MAX_DEPTH} levels,
 *   deeper ones and maps, unions and mixed types (JSON) become `json`;
 * - lists of scalars become `array<T>`; lists of objects give one `array<T>` column per scalar
 *   field (`labels[].name` → `labels_name`), as the example does.
 * Sample records ({@link recordSampleSql}) then check each suggestion against apilake's own
 * conversion rules: text that DuckDB left VARCHAR but that always reads as an ISO date or
 * timestamp becomes `date`/`timestamp` (DuckDB picks one timestamp format per file, so the
 * envelope's own timestamps can hide a record's), and a type some sampled value would fail to
 * convert to falls back to `string`/`json`. The records of a CSV or XML body hold only text, so
 * there every field is typed from its text ({@link textType}).
 */

import { ApilakeError, InputError } from '../errors.js';
import { parseColumnType } from '../config/columnType.js';
import { compileConverter, INVALID } from './compileConverter.js';
import { compilePath } from '../expressions/compilePath.js';
import { parseIsoTimestamp } from '../window/parseTimestamp.js';
import { quoteIdent, sqlString } from './sqlText.js';
import type { StoredColumn } from './storedTableSpec.js';
import { RESERVED_COLUMN_NAMES } from '../config/columnType.js';

/** Deepest object nesting flattened into columns. */
export const MAX_DEPTH = 3;

/** One suggested column: a stored column's name, path and canonical type, with no comment yet. */
export type SuggestedColumn = Pick<StoredColumn, 'name' | 'path' | 'type'>;

/** The suggestion for a stream. */
export interface ColumnSuggestion {
  /** `[id]` when the records have a top-level scalar `id`; else empty. */
  readonly primaryKey: readonly string[];
  readonly columns: readonly SuggestedColumn[];
}

/**
 * The query whose single row's `column_type` is the inferred type of the records in the given
 * gzip JSON-lines parts (envelope lines: the record is `data`). Every record is read
 * (`sample_size = -1`) and the files' shapes are unioned.
 * @throws InputError when there is no file (no committed window)
 */
export function recordTypeSql(jsonlFiles: readonly string[]): string {
  if (jsonlFiles.length === 0) throw new InputError('no committed records to infer a schema from: the stream has no committed window in this lake');
  const files = `[${jsonlFiles.map(sqlString).join(', ')}]`;
  return `DESCRIBE SELECT ${quoteIdent('data')} FROM read_json(${files}, format = 'newline_delimited', compression = 'gzip', union_by_name = true, sample_size = -1)`;
}

/**
 * A query returning up to `limit` records (column `record`, JSON text) of the given parts, spread over them.
 * @throws InputError when there is no file (no committed window)
 */
export function recordSampleSql(jsonlFiles: readonly string[], limit = 1000): string {
  if (jsonlFiles.length === 0) throw new InputError('no committed records to sample: the stream has no committed window in this lake');
  const files = `[${jsonlFiles.map(sqlString).join(', ')}]`;
  return `SELECT CAST(${quoteIdent('data')} AS VARCHAR) AS record FROM read_json(${files}, format = 'newline_delimited', compression = 'gzip', columns = {data: 'JSON'}) USING SAMPLE ${Math.max(1, Math.floor(limit))} ROWS`;
}

/** A DuckDB type, parsed. */
type DuckType =
  { readonly kind: 'scalar'; readonly name: string } | { readonly kind: 'struct'; readonly fields: readonly [string, DuckType][] } | { readonly kind: 'list'; readonly element: DuckType };

/**
 * The columns for records of DuckDB type `recordType` (the `column_type` of {@link recordTypeSql}),
 * checked against sample records (parsed JSON) when given.
 * @throws ApilakeError when the text is not a DuckDB type
 */
export function suggestColumns(recordType: string, samples: readonly unknown[] = [], options: SuggestOptions = {}): ColumnSuggestion {
  const suggestion = inferColumns(recordType);
  if (samples.length === 0) return suggestion;
  return { primaryKey: suggestion.primaryKey, columns: suggestion.columns.map((c) => ({ ...c, type: checkedType(c, samples, options.textRecords ?? false) })) };
}

/** Options of {@link suggestColumns}. */
export interface SuggestOptions {
  /** The records' values are all text (a CSV or XML body): type each field from what its text reads as. @default false */
  readonly textRecords?: boolean;
}

/** The type the samples support: a string column of ISO dates/timestamps is typed; a failing type falls back. */
function checkedType(column: SuggestedColumn, samples: readonly unknown[], textRecords: boolean): string {
  const path = compilePath(column.path);
  const values: unknown[] = [];
  for (const record of samples) {
    try {
      values.push(path(record));
    } catch {
      values.push(null);
    }
  }
  const present = values.flatMap((v): readonly unknown[] => (Array.isArray(v) && column.type.startsWith('array<') ? v : [v])).filter((v) => v !== null && v !== undefined);
  const depth = /^(?:array<)*/.exec(column.type)![0].length / 'array<'.length;
  const wrap = (scalar: string) => `${'array<'.repeat(depth)}${scalar}${'>'.repeat(depth)}`;
  if (textRecords && present.length > 0 && present.every((v) => typeof v === 'string')) return wrap(textType(present));
  if (column.type === wrap('string') && present.length > 0 && present.every((v) => typeof v === 'string')) {
    const iso = isoType(present);
    if (iso) return wrap(iso);
  }
  const candidates = depth > 0 ? [column.type, 'json'] : [column.type, 'string', 'json'];
  return (
    candidates.find((candidate) => {
      const parsed = parseColumnType(candidate);
      if (!parsed.ok) return false;
      const convert = compileConverter(parsed.type);
      return values.every((v) => convert(v) !== INVALID);
    }) ?? 'json'
  );
}

/** Integer text as a JSON integer is written: no leading zero, which marks a code ("00501") rather than a number. */
const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/;
/** Number text as a JSON number is written. */
const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const toBigint = compileConverter({ kind: 'bigint' });

/**
 * The column type of a field whose values are text, typed as JSON values of that kind would be:
 * integers bigint (decimal(38,0) past int64), other numbers double, "true"/"false" boolean, ISO
 * dates date, ISO timestamps timestamp; else string. Conservative: every non-empty value must
 * read so, and empty text counts as null (a CSV cell left empty).
 */
export function textType(values: readonly string[]): string {
  const filled = values.filter((v) => v !== '');
  if (filled.length === 0) return 'string';
  if (filled.every((v) => INTEGER_TEXT.test(v))) {
    if (filled.every((v) => toBigint(v) !== INVALID)) return 'bigint';
    return filled.every((v) => v.replace('-', '').length <= 38) ? 'decimal(38,0)' : 'string';
  }
  if (filled.every((v) => NUMBER_TEXT.test(v) && Number.isFinite(Number(v)))) return 'double';
  if (filled.every((v) => v === 'true' || v === 'false')) return 'boolean';
  return isoType(filled) ?? 'string';
}

/** `date` when every text is an ISO date, `timestamp` when every one is an ISO timestamp. */
function isoType(texts: readonly string[]): 'date' | 'timestamp' | undefined {
  if (texts.every((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && parseIsoTimestamp(v) !== undefined)) return 'date';
  if (texts.every((v) => parseIsoTimestamp(v) !== undefined)) return 'timestamp';
  return undefined;
}

function inferColumns(recordType: string): ColumnSuggestion {
  const type = parseDuckType(recordType);
  const columns: SuggestedColumn[] = [];
  const names = new Set<string>();
  const add = (nameParts: readonly string[], path: string, columnType: string) => {
    let name = columnName(nameParts);
    for (let n = 2; names.has(name); n++) name = `${columnName(nameParts)}_${n}`;
    names.add(name);
    columns.push({ name, path, type: columnType });
  };

  const visit = (t: DuckType, nameParts: string[], path: string, depth: number) => {
    if (t.kind === 'struct') {
      if (depth >= MAX_DEPTH) return add(nameParts, path, 'json');
      for (const [field, fieldType] of t.fields) visit(fieldType, [...nameParts, field], joinPath(path, field), depth + 1);
      return;
    }
    if (t.kind === 'list') {
      const inner = arrayType(t);
      if (inner !== undefined) return add(nameParts, path, inner);
      if (t.element.kind === 'struct') {
        // One array column per scalar field of the objects in the list.
        for (const [field, fieldType] of t.element.fields) {
          if (fieldType.kind === 'scalar') add([...nameParts, field], `${path}[].${pathField(field)}`, `array<${scalarType(fieldType.name)}>`);
        }
        return;
      }
      return add(nameParts, path, 'json');
    }
    add(nameParts, path, scalarType(t.name));
  };

  if (type.kind !== 'struct') return { primaryKey: [], columns: [{ name: 'value', path: '@', type: type.kind === 'list' ? (arrayType(type) ?? 'json') : scalarType(type.name) }] };
  for (const [field, fieldType] of type.fields) visit(fieldType, [field], pathField(field), 1);
  const id = type.fields.find(([field, t]) => field === 'id' && t.kind === 'scalar' && scalarType(t.name) !== 'json');
  return { primaryKey: id ? ['id'] : [], columns };
}

/** The YAML block to paste under a stream (4-space indent, as in the example sources). */
export function formatColumnsYaml(suggestion: ColumnSuggestion, indent = '    '): string {
  const lines: string[] = [];
  if (suggestion.primaryKey.length > 0) lines.push(`${indent}primary_key: [${suggestion.primaryKey.map(yamlScalar).join(', ')}]`);
  lines.push(`${indent}columns:`);
  for (const c of suggestion.columns) lines.push(`${indent}  - { name: ${yamlScalar(c.name)}, path: ${yamlScalar(c.path)}, type: ${yamlScalar(c.type)} }`);
  return `${lines.join('\n')}\n`;
}

function arrayType(list: Extract<DuckType, { kind: 'list' }>): string | undefined {
  const element = list.element;
  if (element.kind === 'scalar') return `array<${scalarType(element.name)}>`;
  if (element.kind === 'list') {
    const inner = arrayType(element);
    return inner === undefined ? undefined : `array<${inner}>`;
  }
  return undefined;
}

/** The column type of a DuckDB scalar type name; `json` for what has no typed column. */
function scalarType(name: string): string {
  const upper = name.toUpperCase();
  if (['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT'].includes(upper)) return 'bigint';
  if (upper === 'HUGEINT' || upper === 'UHUGEINT') return 'decimal(38,0)';
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(upper);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  if (['DOUBLE', 'FLOAT', 'REAL'].includes(upper)) return 'double';
  if (['VARCHAR', 'UUID', 'TIME'].includes(upper)) return 'string';
  if (upper === 'BOOLEAN') return 'boolean';
  if (upper === 'DATE') return 'date';
  if (upper.startsWith('TIMESTAMP')) return 'timestamp';
  return 'json';
}

/** A JMESPath field: bare when it is an identifier, else a quoted identifier. */
function pathField(field: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) ? field : JSON.stringify(field);
}

function joinPath(path: string, field: string): string {
  return `${path}.${pathField(field)}`;
}

/** `createdAt`, `user`, `site-admin` → `created_at_user_site_admin`: a valid, non-reserved column name. */
function columnName(parts: readonly string[]): string {
  const snake = parts
    .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())
    .join('_')
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  const name = /^[a-z]/.test(snake) ? snake : `f_${snake}`;
  return (RESERVED_COLUMN_NAMES.has(name) ? `${name}_value` : name).slice(0, 128);
}

function yamlScalar(text: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(text) ? text : JSON.stringify(text);
}

/**
 * Parses DuckDB's type text: `NAME`, `NAME(args)`, `STRUCT(field type, …)`, any of them followed
 * by `[]` (a list); field names may be double-quoted with `""` escapes.
 */
export function parseDuckType(text: string): DuckType {
  let at = 0;
  const fail = (what: string): never => {
    throw new ApilakeError(`"${text}" is not a DuckDB type: ${what} at position ${at + 1}`);
  };
  const blanks = () => {
    while (text[at] === ' ') at++;
  };
  const identifier = (): string => {
    blanks();
    if (text[at] === '"') {
      let out = '';
      at++;
      for (;;) {
        if (at >= text.length) fail('unterminated quoted name');
        if (text[at] === '"') {
          if (text[at + 1] === '"') {
            out += '"';
            at += 2;
            continue;
          }
          at++;
          return out;
        }
        out += text[at++];
      }
    }
    const m = /^[^\s(),[\]"]+/.exec(text.slice(at));
    if (!m) return fail('expected a name');
    at += m[0].length;
    return m[0];
  };
  const type = (): DuckType => {
    blanks();
    const start = at;
    let result: DuckType;
    const word = identifier();
    if (word.toUpperCase() === 'STRUCT' && text[at] === '(') {
      at++;
      const fields: [string, DuckType][] = [];
      for (;;) {
        const name = identifier();
        fields.push([name, type()]);
        blanks();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ')') {
          at++;
          break;
        }
        fail('expected "," or ")"');
      }
      result = { kind: 'struct', fields };
    } else {
      // A scalar name may have words (TIMESTAMP WITH TIME ZONE) and arguments (DECIMAL(18,3), MAP(…)).
      let depth = 0;
      while (at < text.length) {
        const c = text[at]!;
        if (c === '(') depth++;
        else if (c === ')') {
          if (depth === 0) break;
          depth--;
        } else if ((c === ',' || c === '[') && depth === 0) break;
        at++;
      }
      const name = text.slice(start, at).trim();
      result = name.toUpperCase().startsWith('MAP(') || name.toUpperCase().startsWith('UNION(') ? { kind: 'scalar', name: 'JSON' } : { kind: 'scalar', name };
    }
    for (;;) {
      blanks();
      if (text.startsWith('[]', at)) {
        at += 2;
        result = { kind: 'list', element: result };
      } else return result;
    }
  };
  const result = type();
  blanks();
  if (at !== text.length) fail('unexpected text');
  return result;
}
