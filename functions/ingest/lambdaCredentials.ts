/**
 * The AWS SDK's default credential chain as the deployed function bundles it. Lambda puts the
 * execution role's credentials in the environment (AWS Lambda docs, "Defined runtime environment
 * variables": AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the chain's other
 * providers (SSO, shared INI files, process, web identity, IMDS; ~110 KB, 15 % of the bundle and
 * of its module init) can never answer there. SourceIngestion aliases
 * `@aws-sdk/credential-provider-node` to this module; the CLI and the tests keep the full chain.
 */

import { fromEnv } from '@aws-sdk/credential-provider-env';

type Init = Parameters<typeof fromEnv>[0];

/** Drop-in for `@aws-sdk/credential-provider-node`'s `defaultProvider`: environment credentials only. */
export const defaultProvider = (init?: Init) => fromEnv(init);

/** As `@aws-sdk/credential-provider-node` exports it: whether credentials expire at all. */
export const credentialsWillNeedRefresh = (credentials?: { expiration?: Date }): boolean => credentials?.expiration !== undefined;

/** As `@aws-sdk/credential-provider-node` exports it: expiring within five minutes counts as expired. */
export const credentialsTreatedAsExpired = (credentials?: { expiration?: Date }): boolean => credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
