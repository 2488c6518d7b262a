/**
 * The `cassettes:` block of a source: what `apilake record` masks beyond the source's credentials,
 * and what `apilake test` lets differ between a replayed request and the recorded one
 * (docs/sources.md, "Cassettes").
 *
 * @example
 * ```yaml
 * cassettes:
 *   redact: { headers: [X-Session], body: [session.token, "data[].email"] }
 *   ignore: { params: [nonce], headers: [X-Request-Id] }
 * ```
 */

import { z } from 'zod';
import { HEADER_NAME } from './headerValue.js';

const headerName = z.string().regex(HEADER_NAME, "a header name (letters, digits and !#$%&'*+.^_`|~- only)");

/** The schema of `cassettes:`. */
export const cassettesSchema = z
  .strictObject({
    redact: z
      .strictObject({
        headers: z.array(headerName).default([]).meta({ description: 'Request and response headers whose values a cassette never holds (a placeholder instead). @default none' }),
        body: z.array(z.string().min(1)).default([]).meta({
          description:
            'JMESPaths into JSON request and response bodies: every string they select is replaced by a placeholder wherever it appears in the cassette, in every encoding (e.g. session.token, data[].email). @default none',
        }),
      })
      .default({ headers: [], body: [] }),
    ignore: z
      .strictObject({
        params: z
          .array(z.string().min(1))
          .default([])
          .meta({ description: 'Query parameters whose values may differ between a replayed request and the recorded one (a nonce, a timestamp). @default none' }),
        headers: z.array(headerName).default([]).meta({ description: 'Request headers whose values may differ on replay. @default none' }),
      })
      .default({ params: [], headers: [] }),
  })
  .meta({ description: 'Cassettes of the source (apilake record / apilake test): what they mask, and what replay lets differ. @default mask the credentials only, match requests exactly' });

/** The cassettes block, defaults filled. */
export type CassettesConfig = z.output<typeof cassettesSchema>;
