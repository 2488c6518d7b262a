/** Characters of a body quoted in messages. */
const QUOTED_CHARS = 200;
/** Characters masked before the quote is cut: far more than any encoded secret spans. */
const MASKED_CHARS = 64 * 1024;

/** The start of a body for an error message, on one line, with credentials masked before it is cut. */
export function quoteBody(text: string, redact: (text: string) => string): string {
  // Mask before cutting: a secret straddling the cut would otherwise show its first characters.
  const flat = redact(text.slice(0, MASKED_CHARS)).replace(/\s+/g, ' ').trim();
  return flat.length > QUOTED_CHARS ? `${flat.slice(0, QUOTED_CHARS)}…` : flat;
}
