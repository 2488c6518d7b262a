/**
 * The contract of a source definition (`sources/<name>.yaml`, docs/sources.md) as a zod schema.
 * Parsing fills every default, so the engine receives a fully specified {@link SourceDefinition}
 * and never checks for undefined.
 *
 * @example
 * ```yaml
 * name: github_events
 * schedule: rate(1 hour)
 * base_url: https://api.github.com
 * auth: { type: bearer, secret: apilake/github }
 * streams:
 *   - name: events
 *     path: /orgs/{org}/events
 *     records: "@"
 *     pagination: { type: link_header }
 *     window: 1h
 * vars: { org: aws }
 * ```
 */

import { z } from 'zod';
import { cassettesSchema } from './cassettesSchema.js';
import { formatSchema } from './formatSchema.js';
import { JSON_FORMAT } from './jsonFormat.js';
import { jobSchemaWith } from './jobSchema.js';
import { isBaseUrl } from './authBaseUrl.js';
import { hasUrlCredentials, URL_CREDENTIALS_MESSAGE } from './urlCredentials.js';
import { normaliseOrigin } from './origin.js';
import { RESPONSE_ENCODINGS } from './responseEncoding.js';
import { budgetSchema, responseRulesSchema } from './responseRuleSchema.js';
import { EPOCH_UNITS } from '../window/parseTimestamp.js';

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
/** Characters Secrets Manager allows in a secret name. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;

const identifier = (what: string) => z.string().regex(IDENTIFIER, `${what} must match [a-z][a-z0-9_]* (lower case, digits, underscores), as it names S3 prefixes and tables`).max(64);

const secretName = z
  .string()
  .regex(SECRET_NAME, 'a Secrets Manager secret name (letters, digits and /_+=.@-), never a literal credential')
  .meta({ description: 'Name of a Secrets Manager secret holding JSON; locally read from APILAKE_SECRET_<NAME>.' });

const jmespath = (description: string) => z.string().min(1).meta({ description });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const tokenUrl = z
  .url({ protocol: /^https?$/ })
  .refine((url) => !hasUrlCredentials(url), URL_CREDENTIALS_MESSAGE)
  .meta({ description: 'The OAuth2 token endpoint.' });

/** Where the credential goes in its header or parameter: text before it, or a template around it. */
const credentialValue = (key: string, defaultPrefix: string) => ({
  prefix: z
    .string()
    .min(1)
    .optional()
    .meta({ description: `Text sent before the ${key}, e.g. "Klaviyo-API-Key " (mind the space); the secret holds the bare ${key}. @default ${defaultPrefix}` }),
  template: z
    .string()
    .min(1)
    .optional()
    .meta({ description: `The value sent, with {${key}} where the ${key} goes, e.g. "Klaviyo-API-Key {${key}}" or "Token token={${key}}"; the secret holds the bare ${key}. Not with prefix.` }),
});

const clientAuth = z.enum(['header', 'body']).default('header').meta({ description: 'How client_id/client_secret reach the token endpoint: HTTP Basic header or form body. @default header' });

/** How requests authenticate; every credential lives in the secret, never in the file. */
const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('api_key'),
    secret: secretName,
    in: z.enum(['header', 'query']).default('header').meta({ description: 'Where the key goes. @default header' }),
    name: z.string().min(1).meta({ description: 'Header or query parameter name, e.g. X-API-Key.' }),
    ...credentialValue('api_key', 'none'),
  }),
  z.strictObject({ type: z.literal('bearer'), secret: secretName, ...credentialValue('token', '"Bearer "') }),
  z.strictObject({ type: z.literal('basic'), secret: secretName }),
  z
    .strictObject({
      type: z.literal('oauth2_client_credentials'),
      secret: secretName,
      token_url: tokenUrl,
      scope: z.string().optional().meta({ description: 'Space-separated scopes to request.' }),
      client_auth: clientAuth,
    })
    .meta({ description: 'OAuth2 client credentials grant. Secret JSON: {"client_id", "client_secret"}.' }),
  z
    .strictObject({
      type: z.literal('oauth2_refresh_token'),
      secret: secretName,
      token_url: tokenUrl,
      scope: z.string().optional().meta({ description: 'Space-separated scopes to request; omit to keep those of the original grant.' }),
      client_auth: clientAuth,
    })
    .meta({
      description:
        'OAuth2 refresh-token grant (HubSpot, Xero, Zoho…). Secret JSON: {"client_id", "client_secret", "refresh_token"}. ' +
        'A refresh token the endpoint rotates is written back to the secret before it is used.',
    }),
  z
    .strictObject({
      type: z.literal('jwt_bearer'),
      secret: secretName,
      token_url: tokenUrl,
      scope: z.string().optional().meta({ description: "Space-separated scopes, sent as the assertion's scope claim (Google requires it)." }),
      audience: z.string().min(1).optional().meta({ description: "The assertion's aud claim. @default token_url" }),
    })
    .meta({
      description:
        "JWT bearer grant (RFC 7523), e.g. Google service accounts: an RS256 assertion signed with the secret's key. " +
        'Secret JSON: {"client_email" or "issuer", "private_key" (PEM), optional "subject", "private_key_id"}.',
    }),
]);

const stopConditions = {
  stop_when: jmespath('JMESPath evaluated on each response body; paging ends when it is truthy (e.g. "!has_more").').optional(),
  stop_when_headers: z
    .record(z.string(), z.union([z.string(), z.boolean()]))
    .optional()
    .meta({
      description:
        'Response headers that end paging when they all match, by name (any case): a text is the exact value; a text written /…/ (or /…/i) is a regular expression the value must match; true: present; false: absent. E.g. { X-Has-More: "false" }.',
    }),
  max_pages: z.int().positive().default(10_000).meta({ description: 'Hard guard: more pages than this fails the window instead of looping forever. @default 10000' }),
};

/** Where the page number or offset goes in each request. */
const pageValueIn = z
  .enum(['query', 'body'])
  .default('query')
  .meta({ description: 'Where the paging values go: query (query parameters) or body (dotted paths into the JSON body, e.g. variables.page; needs method: POST). @default query' });

/** Where the cursor goes in each next request. */
const cursorIn = z.enum(['query', 'body', 'header']).default('query').meta({
  description: 'Where the cursor goes: query (a query parameter), body (a dotted path into the JSON body, e.g. variables.after; needs method: POST) or header (a request header). @default query',
});

const paginationSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none'), ...stopConditions }),
  z.strictObject({
    type: z.literal('page_number'),
    param: z.string().min(1).default('page').meta({ description: 'Query parameter (or body path, with in: body) of the page number. @default page' }),
    start: z.int().nonnegative().default(1),
    page_size_param: z.string().min(1).optional(),
    page_size: z.int().positive().optional(),
    total_pages: jmespath('JMESPath to the total page count in the first response; enables concurrent paging.').optional(),
    total_records: jmespath('JMESPath to the total record count in the first response; enables concurrent paging.').optional(),
    in: pageValueIn,
    ...stopConditions,
  }),
  z.strictObject({
    type: z.literal('offset'),
    offset_param: z.string().min(1).default('offset'),
    limit_param: z.string().min(1).default('limit'),
    limit: z.int().positive(),
    total_records: jmespath('JMESPath to the total record count in the first response; enables concurrent paging.').optional(),
    in: pageValueIn,
    ...stopConditions,
  }),
  z.strictObject({
    type: z.literal('cursor'),
    cursor: jmespath('JMESPath to the next cursor in the body (e.g. meta.next_cursor or data[-1].id); absent, null or "" ends paging.'),
    param: z.string().min(1).meta({ description: 'What carries the cursor: a query parameter, a dotted path into the JSON body (in: body, e.g. variables.after) or a header name (in: header).' }),
    in: cursorIn,
    ...stopConditions,
  }),
  z.strictObject({
    type: z.literal('next_url'),
    next: jmespath('JMESPath to the next page URL (absolute or relative) in the body.'),
    ...stopConditions,
  }),
  z.strictObject({ type: z.literal('link_header'), ...stopConditions }),
  z
    .strictObject({
      type: z.literal('header_cursor'),
      header: z.string().min(1).meta({ description: 'The response header that carries the next cursor, e.g. Sforce-Locator.' }),
      param: z.string().min(1).meta({ description: 'What carries the cursor in the next request: a query parameter, a body path (in: body) or a header (in: header).' }),
      in: cursorIn,
      ...stopConditions,
    })
    .meta({ description: 'The next cursor comes from a response header; a missing or empty header, or the text "null", ends paging (Salesforce\'s Sforce-Locator).' }),
]);

/** Client-side incremental filtering for APIs that filter the window on one side only, or not at all. */
const incrementalSchema = z
  .strictObject({
    cursor_field: jmespath(
      'JMESPath into each record to its cursor value: ISO 8601 text (with an offset; none means UTC), or an epoch number (a number, or a string of 9+ digits). Without unit, the integer part says the unit: below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, below 1e20 nanoseconds. A cursor outside 1970–2200 fails the window.',
    ),
    unit: z.enum(EPOCH_UNITS).optional().meta({
      description:
        'The unit of epoch-number cursors: s | ms | us | ns. Needed only for values of ms, us or ns before 1973-03-03, which by magnitude would read as a coarser unit. ISO 8601 text is read as such either way. @default told by magnitude',
    }),
    format: z.string().min(1).optional().meta({
      description:
        'Read cursor values with this format only, e.g. "dd/MM/yyyy HH:mm" (tokens yyyy MM MMM dd EEE HH mm ss S… XXX xxx XX xx Z, literal text in single quotes; or iso, date, epoch, epoch_ms). Text without an offset is read in the source\'s timezone unless the format starts with utc:. Not with unit. @default ISO 8601, RFC 2822 or epoch numbers',
    }),
    order: z.enum(['asc', 'desc', 'none']).default('none').meta({
      description:
        'The order the API returns records in, by cursor_field. asc: paging stops at the first record at or after the window end; desc: at the first record before the window start; none: every page is read. A record out of the declared order fails the window. @default none',
    }),
  })
  .meta({
    description:
      'A record lands in a window only if its cursor_field lies in [window start, window end); the others are dropped and counted in the manifest (filtered). A record whose cursor_field is missing or unparseable fails the window.',
  });

/** Searches that return at most so many results per query: the window is split until each part's total fits. */
const maxResultsSchema = z
  .union([
    z.int().positive(),
    z.strictObject({
      limit: z.int().positive().meta({ description: 'The most results the API returns for one query, e.g. 10000 (HubSpot search) or 1000 (GitHub search).' }),
      total: jmespath(
        'JMESPath to the total number of results in the first response (e.g. total, total_count); a part whose total exceeds limit is split before anything of it lands. @default pagination.total_records (one of the two is required)',
      ).optional(),
      min_span: z.string().default('1s').meta({
        description:
          'The shortest part a window is split into (whole seconds, e.g. 1s, 1m); a part that cannot be halved without going below it and still reports more than limit fails the window. @default 1s',
      }),
    }),
  ])
  .transform((value) => (typeof value === 'number' ? { limit: value, min_span: '1s' } : value))
  .meta({
    description:
      "A search that stops at a fixed number of results (10000, or { limit, total, min_span }): a window (or part of one) whose first page reports more than limit results is split in two halves on a whole second, recursively, each paged with its own {window.*} bounds, all landed in the window's one commit.",
  });

/** A child stream runs once per record of its parent stream. */
const parentSchema = z
  .strictObject({
    stream: identifier('parent stream').meta({ description: 'Another stream of this source, paged over the same window (its own incremental and parent apply); it is not landed by this stream.' }),
    key: jmespath('JMESPath into each parent record to the value this stream runs for (a string or a number), e.g. name or id.'),
    as: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a placeholder name: a letter or _, then letters, digits or _')
      .max(64)
      .meta({ description: 'Placeholder that holds the key: {<as>} in path, params and body.' }),
    skip_empty: z.boolean().default(false).meta({
      description:
        'Skip parent records whose key is the empty string "" (no child run, no _parent ""). Without it, an empty key fails the window when {<as>} is in the path, since "//" would reach another endpoint; in params or a body it is sent as empty text. @default false',
    }),
  })
  .meta({
    description:
      'Run this stream once per distinct key of the parent stream\'s records in the window, with {<as>} templated (a number as the exact text the API sent); every line carries "_parent": <key> in its envelope, as that JSON text.',
  });

/** A typed column of the stream's Parquet table; checked further by checkSource. */
const columnSchema = z.strictObject({
  name: z
    .string()
    .regex(IDENTIFIER, 'a column name must match [a-z][a-z0-9_]* (lower case, digits, underscores: Athena lower-cases names, and names starting with _ belong to the envelope)')
    .max(128)
    .meta({ description: 'Column name in the tables and views; not an envelope column (_source, _stream, _window_start, _window_end, _extracted_at, _run_id, _parent, data, dt).' }),
  path: jmespath('JMESPath into the record, e.g. id, user.login or labels[].name.'),
  type: z
    .string()
    .min(1)
    .meta({ description: 'string | bigint | double | boolean | timestamp | date | json | decimal(p,s) | array<type>. A value that does not convert is NULL and counted in the manifest.' }),
  format: z.string().min(1).optional().meta({
    description:
      'timestamp and date columns (and arrays of them): read values with this format only, e.g. "dd/MM/yyyy HH:mm" (the language of incremental.format). Text without an offset is read in the source\'s timezone unless the format starts with utc:; a date column keeps the date as written. @default ISO 8601, RFC 2822 or epoch numbers',
  }),
  comment: z.string().optional().meta({ description: 'Shown in Glue. @default "<path> as <type>"' }),
});

const streamSchema = z.strictObject({
  name: identifier('stream name'),
  path: z.string().startsWith('/', 'path must start with "/"').optional().meta({ description: 'Appended to base_url; may hold {placeholders}. Required, except in a job stream.' }),
  method: z.enum(['GET', 'POST']).default('GET'),
  params: z.record(z.string(), scalar).default({}).meta({ description: 'Query parameters; values may hold {placeholders}.' }),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional().meta({ description: 'JSON body for POST (e.g. a GraphQL query); strings may hold {placeholders}.' }),
  records: jmespath('JMESPath to the array of records; "@" when the body is the array.').default('@'),
  pagination: paginationSchema.default({ type: 'none', max_pages: 10_000 }),
  window: z.string().optional().meta({ description: 'Time slice one run covers, e.g. 15m, 1h, 1d. @default the schedule interval (required for cron schedules)' }),
  vars: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  response_encoding: z.enum(RESPONSE_ENCODINGS).default('strict').meta({
    description:
      'How response bodies are decoded: strict (invalid UTF-8 fails the page, naming the byte), latin1 (ISO-8859-1 transcoded to UTF-8), replace (invalid bytes become U+FFFD). Anything but strict is counted in the manifest. @default strict',
  }),
  max_page_mb: z.number().positive().max(4095).default(256).meta({ description: 'A response body larger than this fails the page instead of exhausting memory. @default 256' }),
  incremental: incrementalSchema.optional(),
  settle: z.string().optional().meta({
    description:
      'How long after a window ends it may be landed (e.g. 10m), for APIs that show records late: ticks land the latest window whose end + settle has passed; run and backfill never land one before. @default 0',
  }),
  parent: parentSchema.optional(),
  primary_key: z
    .array(jmespath('JMESPath into the record.'))
    .min(1)
    .optional()
    .meta({ description: 'JMESPath expressions identifying a record; gives the stream a <source>_<stream>_latest view (one row per key).' }),
  columns: z.array(columnSchema).default([]).meta({ description: "Typed columns of the stream's Parquet table, beside the envelope and the exact JSON text in data." }),
  response_rules: responseRulesSchema,
  format: formatSchema.default(JSON_FORMAT),
  job: jobSchemaWith(paginationSchema).optional(),
  max_results: maxResultsSchema.optional(),
  land: z.boolean().default(true).meta({
    description:
      'false: the stream only serves as the parent of other streams: it is paged for them but never landed (no windows, no table). A parent whose request has no {window.*} placeholder and no incremental is paged once per run, its keys reused by every child window of the run. @default true',
  }),
});

/** The schema of one source file. Parse with {@link loadSources}, which adds file and line to every problem. */
export const sourceSchema = z.strictObject({
  name: identifier('source name'),
  description: z.string().optional(),
  schedule: z.string().meta({ description: 'EventBridge Scheduler expression: rate(1 hour) or cron(0 * * * ? *).' }),
  timezone: z.string().default('UTC').meta({
    description: 'IANA time zone of cron schedules, of formatted window placeholders ({window.start:yyyy-MM-dd HH:mm}) and of timestamps read with a format that has no offset. @default UTC',
  }),
  base_url: z
    .string()
    .refine(isBaseUrl, 'Invalid URL: expected http(s)://host and an optional path, or {auth.<field>} and an optional path for a URL the token response issues (e.g. {auth.instance_url})')
    .refine((url) => !hasUrlCredentials(url), URL_CREDENTIALS_MESSAGE)
    .meta({
      description:
        "Scheme, host and optional base path of the API; or {auth.<field>} and an optional path: the URL a token response field holds (Salesforce's {auth.instance_url}), with an oauth2 or jwt_bearer auth.",
    }),
  auth: authSchema.default({ type: 'none' }),
  headers: z.record(z.string(), z.string()).default({}),
  vars: z
    .record(z.string(), z.union([z.string(), z.number()]))
    .default({})
    .meta({ description: 'Values for {placeholders}.' }),
  timeout_ms: z.int().positive().default(30_000).meta({ description: 'Per-request timeout, body included. @default 30000' }),
  rate_limit: z
    .strictObject({
      requests_per_second: z
        .number()
        .positive()
        .optional()
        .meta({ description: 'Requests per second, shared by every run of the source at once where a shared budget is set up (a DynamoDB table in AWS, the lake folder locally). @default unlimited' }),
      burst: z.int().positive().optional().meta({ description: 'Token bucket size of a run whose budget is not shared (a shared budget allows no burst). @default max(1, requests_per_second)' }),
      concurrency: z.int().positive().max(64).default(1).meta({ description: 'Requests in flight at once, in each run. @default 1' }),
      expected_workers: z.int().positive().max(1000).default(4).meta({
        description:
          'Runs of the source expected at once (schedule ticks, backfill workers, retries): while the shared budget cannot be reached, each run keeps to requests_per_second / expected_workers. @default 4',
      }),
      budget: budgetSchema.optional(),
    })
    .default({ concurrency: 1, expected_workers: 4 }),
  retry: z
    .strictObject({
      max_attempts: z.int().positive().max(20).default(5),
      base_delay_ms: z.int().nonnegative().default(500),
      max_delay_ms: z.int().positive().default(60_000),
      circuit_breaker_failures: z.int().positive().default(10).meta({ description: 'Consecutive failed requests after which the source fails fast. @default 10' }),
      circuit_breaker_cooldown_ms: z.int().nonnegative().default(30_000),
    })
    .default({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 60_000, circuit_breaker_failures: 10, circuit_breaker_cooldown_ms: 30_000 }),
  redirects: z
    .strictObject({
      max: z.int().min(0).max(20).default(5).meta({ description: 'Redirects followed per request at most; 0 follows none. @default 5' }),
      allowed_origins: z
        .array(
          z
            .string()
            .refine((text) => normaliseOrigin(text) !== undefined, 'an origin is scheme://host[:port] (http or https), without path, query or credentials')
            .transform((text) => normaliseOrigin(text)!),
        )
        .default([])
        .meta({
          description:
            "Other origins (e.g. https://cdn.example.com) the API may redirect to. Requests there never carry the source's credentials, and a redirect to an origin not listed fails the window. @default none",
        }),
    })
    .default({ max: 5, allowed_origins: [] })
    .meta({ description: "Redirects are followed within base_url's origin (scheme, host, port) only, unless allowed_origins names another." }),
  response_rules: responseRulesSchema,
  lake: z
    .strictObject({
      part_size_mb: z.number().positive().default(64).meta({ description: 'Uncompressed size at which a part rolls over. @default 64' }),
      parquet: z.boolean().default(true).meta({ description: 'Also land each window as a typed Parquet file (curated/), the table Athena and apilake query read first. @default true' }),
    })
    .default({ part_size_mb: 64, parquet: true }),
  lambda: z
    .strictObject({
      memory_mb: z.int().min(128).max(10_240).default(512),
      // The function stops landing 20 s (its deadline margin, APILAKE_DEADLINE_MARGIN_MS) before its deadline: a shorter timeout leaves a window no time.
      timeout_seconds: z
        .int()
        .min(30, 'at least 30: the deployed function stops landing 20 s before its deadline, so a shorter timeout leaves a window little or no time')
        .max(900, 'at most 900, the longest a Lambda invocation may run')
        .default(900),
    })
    .default({ memory_mb: 512, timeout_seconds: 900 }),
  streams: z.array(streamSchema).min(1, 'a source needs at least one stream'),
  cassettes: cassettesSchema.optional(),
});

/** A validated source definition with every default filled. */
export type SourceDefinition = z.output<typeof sourceSchema>;
/** One stream of a source, defaults filled. */
export type StreamDefinition = SourceDefinition['streams'][number];
/** The auth block, defaults filled. */
export type AuthConfig = SourceDefinition['auth'];
/** The pagination block of a stream, defaults filled. */
export type PaginationConfig = StreamDefinition['pagination'];
/** The incremental block of a stream, defaults filled. */
export type IncrementalConfig = NonNullable<StreamDefinition['incremental']>;
/** The max_results block of a stream, normalised. */
export type MaxResultsConfig = NonNullable<StreamDefinition['max_results']>;
/** The parent block of a stream. */
export type ParentConfig = NonNullable<StreamDefinition['parent']>;
/** The retry block, defaults filled. */
export type RetryConfig = SourceDefinition['retry'];
/** A job stream's job block, defaults filled. */
export type JobConfig = NonNullable<StreamDefinition['job']>;
export type { FormatConfig } from './formatSchema.js';
/** The redirects block, defaults filled and origins normalised. */
export type RedirectConfig = SourceDefinition['redirects'];
