/**
 * The headers of a request being prepared. They follow the rules of WHATWG `Headers` for a request
 * (Fetch standard, "Headers class"):
 * - names are case-insensitive and kept lower-case;
 * - a value is trimmed of surrounding HTTP whitespace;
 * - a TypeError refuses a name that is not a token, and a value holding NUL, CR, LF or a code
 *   point above 0xFF (the ByteString conversion).
 *
 * Why not `Headers`: Node 20 builds the global `Headers` from undici on first use, about 20 ms
 * of module loading on the first request of every process (a cold Lambda's included), and each
 * `set` goes through WebIDL conversions on the path between one page's response and the next
 * page's request (docs/performance.md, T1).
 *
 * Unlike `Headers`, an error never quotes the refused value: it may be a credential.
 */

import { HEADER_NAME } from '../config/headerValue.js';

/** What the client, its authenticators and its transports read and write of a request's headers; a WHATWG `Headers` is one. */
export interface HeaderFields extends Iterable<[string, string]> {
  get(name: string): string | null;
  set(name: string, value: string): void;
  has(name: string): boolean;
  delete(name: string): void;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  forEach(callback: (value: string, name: string) => void): void;
}

/** HTTP whitespace (Fetch standard): tab, line feed, carriage return, space. */
const SURROUNDING_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

/** A request's headers, checked as WHATWG `Headers` checks them. */
export class RequestHeaders implements HeaderFields {
  private readonly fields = new Map<string, string>();

  /** @param init fields to set in order: a later name replaces an earlier one that differs only in case */
  constructor(init?: Readonly<Record<string, string>> | Iterable<readonly [string, string]>) {
    if (!init) return;
    const entries = Symbol.iterator in init ? init : Object.entries(init);
    for (const [name, value] of entries) this.set(name, value);
  }

  get(name: string): string | null {
    return this.fields.get(name.toLowerCase()) ?? null;
  }

  /** @throws TypeError for a name that is not a token, or a value that cannot travel in a header */
  set(name: string, value: string): void {
    this.fields.set(checkedName(name), checkedValue(name, String(value)));
  }

  has(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  delete(name: string): void {
    this.fields.delete(name.toLowerCase());
  }

  keys(): IterableIterator<string> {
    return this.fields.keys();
  }

  values(): IterableIterator<string> {
    return this.fields.values();
  }

  entries(): IterableIterator<[string, string]> {
    return this.fields.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.fields.entries();
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.fields) callback(value, name);
  }
}

function checkedName(name: string): string {
  if (!HEADER_NAME.test(name)) throw new TypeError(`"${name.length > 60 ? `${name.slice(0, 57)}...` : name}" is not a valid header name`);
  return name.toLowerCase();
}

function checkedValue(name: string, value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) throw new TypeError(`the value of header ${name} has a character beyond Latin-1 at index ${i}`);
  }
  const trimmed = value.replace(SURROUNDING_WHITESPACE, '');
  if (FORBIDDEN_IN_VALUE.test(trimmed)) throw new TypeError(`the value of header ${name} holds a NUL or a line break`);
  return trimmed;
}
