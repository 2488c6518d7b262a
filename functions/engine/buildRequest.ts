/** Builds the first request of a stream window from the source definition and the window. */

import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import type { PageRequest } from '../pagination/PaginationStrategy.js';
import type { ParentKey } from './parentKey.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { authFieldsIn, renderAuthBaseUrl } from '../config/authBaseUrl.js';
import { ApilakeError, RecordFieldError } from '../errors.js';
import { placeholdersIn, renderString, renderValue, type TemplateScope } from '../window/templating.js';

/** The key of one parent (a child stream's `{<as>}`), and the record it came from. */
export interface ParentPlaceholder {
  readonly key: ParentKey;
  /** The parent record, for messages: `parent stream "repos" page 1, record 3`. */
  readonly record: string;
  /** The request of the parent's page, redacted, for messages. */
  readonly request: string;
}

/** A child stream's parent placeholders, by name (`as`): its parent's and every ancestor's. */
export type ParentPlaceholders = Readonly<Record<string, ParentPlaceholder>>;

/**
 * Path steps a parent key cannot be: URL parsing resolves "." and ".." (encoded or not), and an
 * empty segment (`/repos//issues`) is merged away by many servers and proxies, so each would call
 * another endpoint than the path names.
 */
const PATH_STEP = /^\.{0,2}$/;

/**
 * The templated first request: base_url + path, params and body with placeholders filled.
 * @param parents the placeholders of a child stream's parents (`{<as>}`), on top of `vars`.
 * @param authFields the token response's fields, for a base_url of `{auth.<field>}` and `{auth.<field>}` in the path
 * @throws RecordFieldError when a parent key in the path is empty, "." or "..", naming the parent record
 * @throws ApilakeError when the token response lacks the field base_url names, or it is no http(s) URL
 * @throws PlaceholderError when a placeholder cannot be rendered (unknown, or a time that names two instants)
 */
export function buildFirstRequest(
  source: SourceDefinition,
  stream: StreamDefinition,
  window: TimeWindow,
  parents: ParentPlaceholders = {},
  authFields: Readonly<Record<string, string>> = {},
): PageRequest {
  // checkSource requires a path of every stream but a job stream, which builds its own requests.
  const path = stream.path ?? '';
  for (const name of placeholdersIn(path)) {
    const parent = parents[name];
    if (parent && PATH_STEP.test(parent.key.text)) {
      const why =
        parent.key.text === ''
          ? 'an empty key leaves "//" in the path, which servers that merge slashes route to another endpoint (parent.skip_empty: true skips such parents)'
          : '"." and ".." are path steps that would call another endpoint';
      throw new RecordFieldError(`${parent.record}: parent key ${parent.key.json} cannot fill {${name}} in the path ${stream.path} of stream "${stream.name}": ${why}`, parent.request);
    }
  }
  const keys = Object.entries(parents);
  const tokenFields = authFieldsIn(path);
  const missing = tokenFields.find((field) => authFields[field] === undefined);
  if (missing !== undefined)
    throw new ApilakeError(
      `stream "${stream.name}" path {auth.${missing}}: the token response has no field "${missing}" (its fields: ${Object.keys(authFields).join(', ') || 'none besides the token'})`,
    );
  const fromToken = Object.fromEntries(tokenFields.map((field) => [`auth.${field}`, authFields[field]!]));
  const scope: TemplateScope = { window, timeZone: source.timezone, values: { ...source.vars, ...stream.vars, ...fromToken, ...Object.fromEntries(keys.map(([name, p]) => [name, p.key.text])) } };
  const where = (field: string) => `stream "${stream.name}" ${field}`;
  const rendered = renderAuthBaseUrl(source.base_url, authFields);
  if ('problem' in rendered) throw new ApilakeError(`source "${source.name}" ${rendered.problem}`);
  const url = templatedUrl(rendered.url, path, stream.params, () => scope, where);
  if (stream.body === undefined) return { url };
  return { url, body: renderValue(stream.body, scope, where('body'), Object.fromEntries(keys.map(([name, p]) => [name, p.key.value]))) };
}

/**
 * `base` and `path` with placeholders filled (each value percent-encoded), then `params` filled as
 * text: the URL of a stream's first request, and of a job's create, poll and download requests.
 * @param scopeOf the scope a text renders in (a job's placeholders depend on the text naming them)
 * @param where names a field in messages: `where('path')`, `where('params.q')`
 * @throws PlaceholderError when a placeholder cannot be rendered
 */
export function templatedUrl(base: string, path: string, params: Readonly<Record<string, string | number | boolean>>, scopeOf: (text: string) => TemplateScope, where: (field: string) => string): URL {
  const url = new URL(`${base.replace(/\/+$/, '')}${renderString(path, scopeOf(path), where('path'), encodeURIComponent)}`);
  for (const [key, value] of Object.entries(params)) {
    url.searchParams.set(key, typeof value === 'string' ? renderString(value, scopeOf(value), where(`params.${key}`)) : String(value));
  }
  return url;
}
