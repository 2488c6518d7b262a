/**
 * A job stream's `job` block: the records of a window are exported by the API as a job that is
 * created, polled until it is done, and whose results are downloaded (Salesforce Bulk API 2.0,
 * Shopify bulk operations, Stripe report runs). The engine's side is engine/jobPages.ts.
 */

import { z } from 'zod';
import { formatSchema } from './formatSchema.js';
import { hasUrlCredentials, URL_CREDENTIALS_MESSAGE } from './urlCredentials.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const jmespath = (description: string) => z.string().min(1).meta({ description });
const duration = (description: string) =>
  z
    .string()
    .regex(/^\d+(s|m|h|d)$/, 'a duration: <n>s, <n>m, <n>h or <n>d (e.g. 10s, 2h)')
    .meta({ description });

/** One request of the job's life: path, method, params, headers and a JSON body, placeholders allowed. */
const requestFields = (defaultMethod: 'GET' | 'POST', placeholders: string) => ({
  path: z
    .string()
    .startsWith('/', 'path must start with "/"')
    .meta({ description: `Appended to base_url; may hold ${placeholders}.` }),
  method: z
    .enum(['GET', 'POST'])
    .default(defaultMethod)
    .meta({ description: `@default ${defaultMethod}` }),
  params: z
    .record(z.string(), scalar)
    .default({})
    .meta({ description: `Query parameters; values may hold ${placeholders}.` }),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .meta({ description: `Headers of this request; values may hold ${placeholders}, e.g. Idempotency-Key: "{job.key}".` }),
  body: z
    .unknown()
    .optional()
    .meta({ description: `JSON body of a POST; strings may hold ${placeholders}.` }),
});

const WINDOW = "window placeholders, vars and {job.key} (the window's idempotency key, the same for every attempt until the window commits)";
const JOB = 'window placeholders, vars, {job.key}, {job.id} and {job.<field>} (a field of the last poll response)';

/**
 * The `job` block. Built around the source schema's pagination block (the download of a job's
 * results is paged like any stream), which is passed in so the two schemas share it.
 */
export function jobSchemaWith<P extends z.ZodType>(paginationSchema: P) {
  return z
    .strictObject({
      create: z.strictObject(requestFields('POST', WINDOW)).meta({ description: 'The request that creates the job for a window; it returns the job.' }),
      id: jmespath('JMESPath to the job id in the create response, e.g. id or data.bulkOperationRunQuery.bulkOperation.id.'),
      poll: z
        .strictObject({
          ...requestFields('GET', JOB),
          every: duration('Wait between polls; a Retry-After header of the poll response is honoured instead. @default 10s').default('10s'),
          timeout: duration('Longest a job may run, from its creation: past it the window fails naming the job and its last state. @default 1h').default('1h'),
        })
        .meta({ description: 'The request that reads the job, repeated until done_when or failed_when holds.' }),
      done_when: jmespath("JMESPath on the poll response; the job's results are downloaded once it is truthy, e.g. \"state == 'JobComplete'\"."),
      failed_when: jmespath("JMESPath on the poll response; the window fails once it is truthy, quoting the job's error, e.g. \"state == 'Failed' || state == 'Aborted'\".").optional(),
      error: jmespath("JMESPath on the poll response to the job's error message, quoted when failed_when holds. @default the response body").optional(),
      download: z
        .strictObject({
          path: z
            .string()
            .startsWith('/', 'path must start with "/"')
            .optional()
            .meta({ description: `The results endpoint, paged by pagination; may hold ${JOB}.` }),
          base_url: z
            .url({ protocol: /^https?$/ })
            .refine((url) => !hasUrlCredentials(url), URL_CREDENTIALS_MESSAGE)
            .optional()
            .meta({ description: "Where path is, when not under the source's base_url (e.g. https://files.stripe.com); requests there carry the source's credentials. @default base_url" }),
          params: z.record(z.string(), scalar).default({}),
          headers: z
            .record(z.string(), z.string())
            .default({})
            .meta({ description: `Headers of the download's requests; values may hold ${JOB}.` }),
          pagination: paginationSchema.optional().meta({ description: 'How the results endpoint is paged (header_cursor for Sforce-Locator). @default none' }),
          urls: jmespath(
            "JMESPath on the last poll response to the result file's URL, or a list of URLs. A URL on another origin than base_url is fetched without the source's credentials and must be listed in redirects.allowed_origins.",
          ).optional(),
        })
        .meta({ description: 'Where the results are: a path (paged), or urls (files) read from the last poll response. Exactly one of the two.' }),
      format: formatSchema.optional().meta({ description: "The format of the downloaded results. @default the stream's format" }),
    })
    .meta({
      description:
        "The window's records come from an export job: created once per window (its id is kept in the lake until the window commits, so a re-run reuses the job instead of starting another), polled until done, then its results downloaded and landed as the window's parts.",
    });
}
