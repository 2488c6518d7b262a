/**
 * Reads an XML body as it arrives with saxes (a streaming, conformance-checking SAX parser: the
 * body never becomes a tree), and lands every element at the record path as a JSON object:
 *
 * - each attribute is a key `"@name"` with its value as text;
 * - each child element is a key with its name as written (prefix included, e.g. `dc:title`): a
 *   child with neither attributes nor children is its text (`""` when empty); any other child is an
 *   object built the same way; a name that repeats becomes an array of its values, in order;
 * - the text of an element that also has attributes or children is `"#text"` (text and CDATA
 *   joined; left out when it is only whitespace); a record element is always an object.
 *
 * Elements outside the record path are read and dropped; only the path to the current element is
 * held, and the record being built, so a file of any size streams. XML that is not well-formed,
 * and entity references other than XML's own (no DTD is ever expanded), fail the page with the
 * line and column.
 */

import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { BodyDecoder } from './BodyDecoder.js';
import { BodyFormatError, JsonNestingError, RecordTooLargeError, type BodyOrigin } from './bodyErrors.js';
import { decodeChecked, pageStats } from './pageStats.js';
import { RecordBatch } from './RecordBatch.js';
import { RECORD_PARSER_DEFAULTS, type ParsedPage, type RecordParserOptions } from './RecordParser.js';
import type { RecordReader } from './RecordReader.js';

/** An element of the record being built. */
interface Frame {
  readonly name: string;
  readonly value: Record<string, unknown>;
  text: string;
  /** It has attributes or child elements, so it is an object rather than its text. */
  structured: boolean;
}

const EMPTY = Buffer.alloc(0);

/** An XML body, read as it arrives. */
export class XmlRecordParser implements RecordReader {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly decoder: BodyDecoder;
  private readonly origin: BodyOrigin;
  private readonly path: readonly string[];
  private readonly maxDepth: number;
  private readonly maxRecordBytes: number;
  /** Names of the open elements outside records. */
  private readonly outside: string[] = [];
  /** The open elements of the record being built, the record first; empty between records. */
  private readonly frames: Frame[] = [];
  private recordFrom = 0;
  private done: Buffer[] = [];
  private received = 0;
  private count = 0;
  private recordBytes = 0;

  constructor(options: Omit<RecordParserOptions, 'records'> & { readonly records: string }) {
    this.decoder = new BodyDecoder(options.encoding ?? RECORD_PARSER_DEFAULTS.encoding);
    this.origin = options.origin ?? { page: 1, request: 'response body' };
    this.path = options.records.split('/');
    this.maxDepth = options.maxDepth ?? RECORD_PARSER_DEFAULTS.maxDepth;
    this.maxRecordBytes = options.maxPageBytes ?? RECORD_PARSER_DEFAULTS.maxPageBytes;
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', (text) => this.text(text));
    this.parser.on('cdata', (text) => this.text(text));
    this.parser.on('error', (error) => {
      throw error;
    });
  }

  push(chunk: Uint8Array): RecordBatch {
    this.write(chunk, false);
    return this.take();
  }

  end(lastChunk: Uint8Array = EMPTY): ParsedPage {
    this.write(lastChunk, true);
    this.guard(() => this.parser.close());
    const records = this.take();
    const stats = pageStats(this.decoder, { bytes: this.received, records: this.count, recordBytes: this.recordBytes });
    return { records, recordCount: this.count, body: null, stats };
  }

  private write(chunk: Uint8Array, final: boolean): void {
    this.received += chunk.length;
    const decoded = decodeChecked(this.decoder, chunk, final, this.origin);
    if (decoded.length > 0) this.guard(() => this.parser.write(decoded.toString('utf8')));
    if (this.frames.length > 0 && this.received - this.recordFrom > this.maxRecordBytes) {
      throw new RecordTooLargeError(this.origin, `record ${this.count + 1} (<${this.path.at(-1)!}>)`, this.maxRecordBytes, this.received - this.recordFrom);
    }
  }

  /** Runs a parser call, turning its errors into located ones. */
  private guard(run: () => unknown): void {
    try {
      run();
    } catch (error) {
      if (error instanceof JsonNestingError || error instanceof BodyFormatError) throw error;
      // saxes's messages start with "line:column: ".
      throw new BodyFormatError(this.origin, 'XML', (error as Error).message, { cause: error });
    }
  }

  private take(): RecordBatch {
    if (this.done.length === 0) return RecordBatch.EMPTY;
    const spans = new Uint32Array(this.done.length * 2);
    let at = 0;
    this.done.forEach((bytes, i) => {
      spans[2 * i] = at;
      at += bytes.length;
      spans[2 * i + 1] = at;
    });
    const source = Buffer.concat(this.done, at);
    this.done = [];
    return new RecordBatch(source, spans);
  }

  private open(tag: SaxesTagPlain): void {
    const attributes = Object.entries(tag.attributes);
    if (this.frames.length === 0) {
      this.outside.push(tag.name);
      if (this.outside.length !== this.path.length || !this.outside.every((name, i) => name === this.path[i])) return;
      this.recordFrom = this.received;
    } else if (this.frames.length >= this.maxDepth) throw new JsonNestingError(this.origin, this.received, this.maxDepth);
    const frame: Frame = { name: tag.name, value: {}, text: '', structured: attributes.length > 0 };
    for (const [name, value] of attributes) define(frame.value, `@${name}`, value);
    if (this.frames.length > 0) this.frames.at(-1)!.structured = true;
    this.frames.push(frame);
  }

  private close(): void {
    if (this.frames.length === 0) {
      this.outside.pop();
      return;
    }
    const frame = this.frames.pop()!;
    const isRecord = this.frames.length === 0;
    let value: unknown = frame.value;
    if (!frame.structured && !isRecord) value = frame.text;
    else if (frame.text.trim() !== '') define(frame.value, '#text', frame.text);
    if (!isRecord) {
      attach(this.frames.at(-1)!.value, frame.name, value);
      return;
    }
    this.outside.pop();
    const bytes = Buffer.from(JSON.stringify(value));
    this.done.push(bytes);
    this.count++;
    this.recordBytes += bytes.length;
  }

  private text(text: string): void {
    const frame = this.frames.at(-1);
    if (frame) frame.text += text;
  }
}

/** Sets an own property, `__proto__` included (as JSON.parse makes it). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Adds a child's value under its name; a repeated name becomes an array. */
function attach(target: Record<string, unknown>, name: string, value: unknown): void {
  if (!Object.hasOwn(target, name)) return define(target, name, value);
  const earlier = target[name];
  if (Array.isArray(earlier) && (earlier as { repeated?: boolean }).repeated) earlier.push(value);
  else {
    const list = [earlier, value];
    // Marks arrays made of repeats, so a child whose value is an array is never appended to.
    Object.defineProperty(list, 'repeated', { value: true, enumerable: false });
    define(target, name, list);
  }
}
