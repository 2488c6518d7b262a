/** The reader of a body's records for the stream's `format` (a registry, as pagination's strategies are). */

import type { FormatConfig } from '../config/formatSchema.js';
import type { BodyOrigin } from './bodyErrors.js';
import { CsvParser } from './CsvParser.js';
import { JsonLinesParser, type JsonLinesOptions } from './JsonLinesParser.js';
import { RecordParser, type RecordParserOptions } from './RecordParser.js';
import type { RecordReader } from './RecordReader.js';
import { XmlRecordParser } from './XmlRecordParser.js';

type Options = RecordParserOptions & { readonly origin: BodyOrigin } & Pick<JsonLinesOptions, 'fileOffset'>;
type Factories = { [K in FormatConfig['type']]: (format: Extract<FormatConfig, { type: K }>, options: Options) => RecordReader };

const FACTORIES: Factories = {
  json: (_, options) => new RecordParser(options),
  jsonl: (_, options) => new JsonLinesParser(options),
  csv: (format, options) => new CsvParser({ ...options, delimiter: format.delimiter, quote: format.quote }),
  xml: (format, options) => new XmlRecordParser({ ...options, records: format.records }),
};

/** A reader of one body (or one member of an archive) in `format`. */
export function createRecordReader(format: FormatConfig, options: Options): RecordReader {
  return (FACTORIES[format.type] as (f: FormatConfig, o: Options) => RecordReader)(format, options);
}
