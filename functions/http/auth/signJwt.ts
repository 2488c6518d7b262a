/** RS256 JSON Web Tokens signed with node:crypto (no hand-rolled RSA). */

import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { SecretError } from '../../errors.js';

/** RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms." */
const MIN_RSA_BITS = 2048;

/**
 * A compact JWS (RFC 7515 §7.1) over `claims` with `alg: RS256`, i.e. RSASSA-PKCS1-v1_5 with
 * SHA-256 (RFC 7518 §3.3). node:crypto's `sign('sha256', data, rsaKey)` pads with
 * RSA_PKCS1_PADDING by default (Node.js docs, crypto.sign).
 */
export function signJwtRs256(claims: Readonly<Record<string, unknown>>, key: KeyObject, keyId?: string): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/**
 * The RSA private key of a secret's `private_key` (PEM, PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1
 * `BEGIN RSA PRIVATE KEY`). Messages never quote the key.
 * @throws SecretError when it is not a PEM private key, not RSA, or shorter than 2048 bits.
 */
export function readRsaPrivateKey(secretName: string, pem: string): KeyObject {
  // A key pasted through a shell often arrives with literal "\n" instead of line breaks.
  const text = !pem.includes('\n') && pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new SecretError(`secret "${secretName}": "private_key" is not a PEM private key; expected the text from -----BEGIN PRIVATE KEY----- (or BEGIN RSA PRIVATE KEY) to the matching END line`, {
      context: { secret: secretName },
    });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new SecretError(`secret "${secretName}": "private_key" must be an RSA key for RS256, found ${key.asymmetricKeyType ?? 'an unknown key type'}`, {
      context: { secret: secretName },
    });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new SecretError(`secret "${secretName}": "private_key" is a ${bits}-bit RSA key; RS256 needs at least ${MIN_RSA_BITS} bits`, {
      context: { secret: secretName },
    });
  }
  return key;
}
