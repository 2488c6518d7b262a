/**
 * The text an `api_key` or `bearer` credential travels in: the bare secret value inside a template
 * (`Klaviyo-API-Key {api_key}`, `Token token={token}`), from the auth block's `template` or
 * `prefix`. The secret always holds the bare value, so it is masked on its own wherever it appears.
 */

import { headerValueProblem } from './headerValue.js';

/** The auth blocks whose credential can be templated. */
export interface TemplatedAuth {
  readonly type: 'api_key' | 'bearer';
  readonly prefix?: string;
  readonly template?: string;
  /** api_key only: where the key goes. */
  readonly in?: 'header' | 'query';
}

/** The secret key each templated type reads. */
export const CREDENTIAL_KEY = { api_key: 'api_key', bearer: 'token' } as const;

/** What each type sends when the block names neither `prefix` nor `template`. */
const DEFAULT_PREFIX = { api_key: '', bearer: 'Bearer ' } as const;

/** `{api_key}` or `{token}`: the one placeholder a template may hold. */
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The template of a block, e.g. `Bearer {token}` for a plain bearer block. */
export function credentialTemplate(auth: TemplatedAuth): string {
  return auth.template ?? `${auth.prefix ?? DEFAULT_PREFIX[auth.type]}{${CREDENTIAL_KEY[auth.type]}}`;
}

/** The template with the bare credential in place of its placeholder. */
export function renderCredential(template: string, key: string, value: string): string {
  return template.replace(`{${key}}`, () => value);
}

/** The literal text a template puts before the credential (`Klaviyo-API-Key `). */
export function templatePrefix(template: string, key: string): string {
  return template.slice(0, Math.max(0, template.indexOf(`{${key}}`)));
}

/**
 * What is wrong with a block's `prefix` and `template`, by field; empty when they can be sent.
 * A template holds its placeholder exactly once and no other; a value sent in a header must be
 * text a header can carry.
 */
export function credentialTemplateProblems(auth: TemplatedAuth): { field: 'prefix' | 'template'; message: string }[] {
  const key = CREDENTIAL_KEY[auth.type];
  if (auth.prefix !== undefined && auth.template !== undefined) {
    return [{ field: 'template', message: `give either prefix or template, not both (prefix "${auth.prefix}" is template "${auth.prefix}{${key}}")` }];
  }
  const field = auth.template !== undefined ? 'template' : 'prefix';
  const text = auth.template ?? auth.prefix;
  if (text === undefined) return [];
  const problems: { field: 'prefix' | 'template'; message: string }[] = [];
  const names = [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  if (field === 'template') {
    const uses = names.filter((name) => name === key).length;
    if (uses !== 1) problems.push({ field, message: `"${text}" must hold {${key}} exactly once, where the secret's ${key} goes (found ${uses})` });
    const others = names.filter((name) => name !== key);
    if (others.length > 0) problems.push({ field, message: `"${text}" holds ${others.map((n) => `{${n}}`).join(', ')}: a template takes only {${key}}` });
  } else if (names.length > 0) {
    problems.push({ field, message: `"${text}" holds a placeholder: a prefix is literal text sent before the ${key} (use template for text around it)` });
  }
  if (auth.type === 'bearer' || auth.in !== 'query') {
    const problem = headerValueProblem(text);
    if (problem) problems.push({ field, message: `cannot be sent in an HTTP header: ${problem}` });
  }
  return problems;
}
