/**
 * The `format` of a stream's response bodies (or of a job's files): JSON (the default), JSON
 * Lines, CSV or XML, each also read inside a gzip file or a zip archive (told by the body's first
 * bytes). Written as a word (`format: csv`) or, with options, as an object (`format: { type: csv,
 * delimiter: ";" }`); parsing makes it the object either way.
 */

import { z } from 'zod';

/** The formats a body may have. */
export const FORMAT_TYPES = ['json', 'jsonl', 'csv', 'xml'] as const;

/** An XML element path: names separated by `/`, e.g. `feed/entry` or `Report/Rows/Row`. */
const XML_PATH = /^[A-Za-z_][\w.:-]*(\/[A-Za-z_][\w.:-]*)*$/;

const oneCharacter = (what: string) => z.string().length(1, `${what} must be one character`);

const formatObject = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('json') }).meta({ description: 'One JSON document; `records` selects the array of records.' }),
  z.strictObject({ type: z.literal('jsonl') }).meta({ description: 'JSON Lines: one JSON value per line, each a record; blank lines are skipped.' }),
  z
    .strictObject({
      type: z.literal('csv'),
      delimiter: oneCharacter('delimiter').default(',').meta({ description: 'Field separator, e.g. ";" or a tab. @default ,' }),
      quote: oneCharacter('quote').default('"').meta({ description: 'Quote character; a quote inside a quoted field is doubled (RFC 4180). @default "' }),
    })
    .meta({
      description: 'CSV with a header row (RFC 4180): each row lands as a JSON object of strings, keyed by the header in its order. A row with more or fewer fields than the header fails the page.',
    }),
  z
    .strictObject({
      type: z.literal('xml'),
      records: z
        .string()
        .regex(XML_PATH, 'an element path: names separated by "/", from the root element, e.g. feed/entry')
        .meta({ description: 'Path of element names from the root element to each record element, e.g. feed/entry.' }),
    })
    .meta({ description: 'XML: every element at the `records` path is a record, landed as a JSON object (docs/sources.md, XML records).' }),
]);

/** A stream's `format`, as written: a word, or an object with options. */
export const formatSchema = z
  .union([z.enum(['json', 'jsonl', 'csv']), formatObject])
  .transform((value): z.output<typeof formatObject> => (typeof value !== 'string' ? value : value === 'csv' ? { type: 'csv', delimiter: ',', quote: '"' } : { type: value }))
  .meta({
    description:
      "How response bodies (or a job's files) are read: json (the default), jsonl, csv, or { type: xml, records: <element path> }; csv takes delimiter and quote. A gzip file or a zip archive (one or many members) is read as the format inside it. @default json",
  });

/** A stream's `format`, options filled. */
export type FormatConfig = z.output<typeof formatObject>;
