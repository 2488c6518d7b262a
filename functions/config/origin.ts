/** `https://cdn.example.com/` or `https://cdn.example.com` → `https://cdn.example.com`; `undefined` if it is not a bare http(s) origin. */
export function normaliseOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !text.includes('?') && !text.includes('#');
  if (!bare || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  return url.origin;
}
