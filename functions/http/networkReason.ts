/** A short reason for a failed request: the system error code when there is one (`ECONNRESET (socket hang up)`). */
export function networkReason(error: unknown): string {
  const own = error as { code?: unknown; message?: string; errors?: { code?: string }[] };
  const ownCode = typeof own?.code === 'string' ? own.code : own?.errors?.find((e) => e.code)?.code;
  if (ownCode && /^E[A-Z]+$/.test(ownCode)) return `${ownCode}${own.message && own.message !== ownCode ? ` (${own.message})` : ''}`;
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })?.cause;
  const code = cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
  if (code) return `${code}${cause?.message && cause.message !== code ? ` (${cause.message})` : ''}`;
  if (cause?.message) return `${(error as Error).message}: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
