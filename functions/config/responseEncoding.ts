/**
 * How a body that is not valid UTF-8 is treated.
 * - `strict`: the page fails, naming the offset of the first invalid byte (RFC 8259 §8.1: JSON
 *   exchanged between systems MUST be UTF-8).
 * - `latin1`: the API sends ISO-8859-1; every byte is one character, transcoded to UTF-8.
 * - `replace`: each invalid sequence becomes U+FFFD (WHATWG decoding, as `TextDecoder` does), counted.
 */
export const RESPONSE_ENCODINGS = ['strict', 'latin1', 'replace'] as const;
/** One of {@link RESPONSE_ENCODINGS}. */
export type ResponseEncoding = (typeof RESPONSE_ENCODINGS)[number];
