/**
 * Exact arithmetic on decimal number text, for values that must not pass through a float:
 * decimals, 64-bit integers and epoch timestamps past 2^53 arrive as their exact JSON text.
 */

/** A decimal number split into sign and digit strings, exponent applied. */
export interface DecimalParts {
  readonly negative: boolean;
  /** Integer digits without leading zeros ("0" for none). */
  readonly whole: string;
  /** Fraction digits without trailing zeros ("" for none). */
  readonly fraction: string;
}

const NUMBER = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;
/** Bounds the exponent so hostile text ("1e9999") cannot make a huge digit string. */
const MAX_EXPONENT = 400;

/**
 * Splits number text (`-12.50`, `1.5e3`, `1E-7`, `+4`) into exact digits; undefined when the
 * text is not a number (blank, `NaN`, `0x10`, `1,5`) or its exponent is beyond ±400.
 */
export function decimalParts(text: string): DecimalParts | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const intDigits = m[2] ?? '';
  const fracDigits = m[3] ?? '';
  if (intDigits === '' && fracDigits === '') return undefined;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  let digits = intDigits + fracDigits;
  let point = intDigits.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  } else if (point > digits.length) {
    digits = digits + '0'.repeat(point - digits.length);
  }
  const whole = digits.slice(0, point).replace(/^0+/, '') || '0';
  const fraction = digits.slice(point).replace(/0+$/, '');
  return { negative: m[1] === '-' && (whole !== '0' || fraction !== ''), whole, fraction };
}

/**
 * The unscaled integer of a decimal at `scale` (12.345 at scale 2 → 1235n), rounding half away
 * from zero as Trino's CAST to DECIMAL does.
 */
export function toUnscaled(parts: DecimalParts, scale: number): bigint {
  const kept = parts.fraction.slice(0, scale).padEnd(scale, '0');
  let magnitude = BigInt(parts.whole + kept);
  const next = parts.fraction.charCodeAt(scale);
  if (next >= 53 /* '5' */ && next <= 57) magnitude += 1n;
  return parts.negative ? -magnitude : magnitude;
}

/** Floor division of big integers (toward −∞, unlike `/`, which truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
