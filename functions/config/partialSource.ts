/**
 * The parts of a source that are valid on their own, when the whole is not: so one `validate`
 * pass can run the semantic checks (schedule, placeholders, JMESPath…) on whatever parsed, and
 * report them with the schema problems instead of after the next fix.
 */

import { sourceSchema, type SourceDefinition, type StreamDefinition } from './sourceSchema.js';

/** A column of which only the fields that passed the schema on their own are present. */
export type PartialColumn = Partial<StreamDefinition['columns'][number]>;

/**
 * A stream whose fields are present only when they passed the schema on their own; when its
 * `columns` did not, each column holds those of its fields that did.
 */
export type PartialStream = Partial<Omit<StreamDefinition, 'columns'>> & { readonly columns?: readonly PartialColumn[] };

/** A source whose fields are present only when they passed the schema on their own. */
export type PartialSource = Partial<Omit<SourceDefinition, 'streams'>> & { readonly streams: readonly PartialStream[] };

const streamSchema = sourceSchema.shape.streams.element;
const columnSchema = streamSchema.shape.columns.unwrap().element;

/** Parses every top-level field and every stream field of `raw` on its own, keeping those that pass (defaults filled). */
export function partialSource(raw: unknown): PartialSource {
  if (!isRecord(raw)) return { streams: [] };
  const { streams: _streams, ...fields } = sourceSchema.shape;
  const out = parseFields(fields, raw) as Partial<Omit<SourceDefinition, 'streams'>>;
  const rawStreams = Array.isArray(raw.streams) ? raw.streams : [];
  return { ...out, streams: rawStreams.map((stream) => (isRecord(stream) ? partialStream(stream) : {})) };
}

function partialStream(raw: Record<string, unknown>): PartialStream {
  const stream = parseFields(streamSchema.shape, raw) as PartialStream;
  // One bad column fails the list: the fields of every column that pass are still checked.
  if (stream.columns !== undefined || !Array.isArray(raw.columns)) return stream;
  return { ...stream, columns: raw.columns.map((column) => (isRecord(column) ? (parseFields(columnSchema.shape, column) as PartialColumn) : {})) };
}

function parseFields(shape: Readonly<Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>>, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const parsed = schema.safeParse(raw[key]);
    if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
