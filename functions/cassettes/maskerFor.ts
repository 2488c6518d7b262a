/** The masker of a source's traffic: its auth's key parameter or header, and its `cassettes.redact`. */

import type { SourceDefinition } from '../config/sourceSchema.js';
import { Masker } from './Masker.js';

/** A masker for `source`, whose credentials are `secret` (as first read, or a cassette's placeholders). */
export function maskerFor(source: SourceDefinition, secret: Readonly<Record<string, unknown>> | undefined): Masker {
  const { auth } = source;
  const keyName = auth.type === 'api_key' ? [auth.name] : [];
  return new Masker({
    ...(secret ? { secret } : {}),
    redact: source.cassettes?.redact ?? { headers: [], body: [] },
    sensitiveParams: auth.type === 'api_key' && auth.in === 'query' ? keyName : [],
    credentialHeaders: auth.type === 'api_key' && auth.in === 'header' ? keyName : [],
  });
}

/** The name of the source's secret, if its auth has one. */
export function authSecretName(source: SourceDefinition): string | undefined {
  return source.auth.type === 'none' ? undefined : source.auth.secret;
}
