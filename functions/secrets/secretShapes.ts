/** The JSON each auth type expects in its secret, so hints show the shape a user must store. */

import type { AuthConfig } from '../config/sourceSchema.js';

/** An auth type that reads a secret. */
export type SecretAuthType = Exclude<AuthConfig['type'], 'none'>;

/** Keys of one auth type's secret: all of `required`, one of each `oneOf` group, any of `optional`. */
export interface SecretShape {
  readonly required: readonly string[];
  readonly oneOf?: readonly (readonly string[])[];
  readonly optional?: readonly string[];
}

/** The secret JSON of every auth type (docs/sources.md, "Auth and secrets"). */
export const SECRET_SHAPES = {
  api_key: { required: ['api_key'] },
  bearer: { required: ['token'] },
  basic: { required: ['username', 'password'] },
  oauth2_client_credentials: { required: ['client_id', 'client_secret'] },
  oauth2_refresh_token: { required: ['client_id', 'client_secret', 'refresh_token'] },
  // A Google service-account key file works as is: it holds client_email, private_key and private_key_id.
  jwt_bearer: { required: ['private_key'], oneOf: [['client_email', 'issuer']], optional: ['subject', 'private_key_id'] },
} as const satisfies Record<SecretAuthType, SecretShape>;

/**
 * An example of the secret's JSON for an auth type, with placeholders for values,
 * e.g. `{"client_id": "…", "client_secret": "…"}`.
 */
export function secretExample(type: SecretAuthType): string {
  const shape: SecretShape = SECRET_SHAPES[type];
  const keys = [...(shape.oneOf ?? []).map((group) => group[0]!), ...shape.required];
  return `{${keys.map((key) => `"${key}": "…"`).join(', ')}}`;
}
