/**
 * Whether a string can travel as an HTTP header value. fetch refuses the others with messages
 * such as "Cannot convert argument to a ByteString because the character at index 10 has a
 * value of 8217", or worse, quotes the whole value: callers explain the problem without it.
 */

/** RFC 9110 5.1: a field name is a token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * What makes `value` unusable in a header, without quoting it; `undefined` when it is fine.
 * RFC 9110 5.5: a field value is visible ASCII, obs-text (0x80–0xFF, i.e. Latin-1) and
 * spaces or tabs; fetch's ByteString conversion rejects anything above 0xFF.
 * @example headerValueProblem('tök’en') // 'character 4 of 6 is beyond Latin-1 (e.g. a typographic quote or an emoji)'
 */
export function headerValueProblem(value: string): string | undefined {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    const at = `character ${i + 1} of ${length}`;
    if (code > 0xff) return `${at} is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji)`;
    if (code === 0x0a || code === 0x0d) {
      // Headers trims surrounding whitespace, so only a line break inside the value is fatal.
      if (value.slice(0, i).trim() !== '' && value.slice(i).trim() !== '') return `${at} is a line break`;
    } else if (code === 0x00) return `${at} is a NUL character`;
    else if ((code < 0x20 && code !== 0x09) || code === 0x7f) return `${at} is a control character`;
  }
  return undefined;
}
