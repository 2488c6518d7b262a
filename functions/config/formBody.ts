/**
 * Form-encoded request bodies (`content-type: application/x-www-form-urlencoded`, as Stripe's
 * POSTs want them): which requests send one, and what such a body may hold. Validation and the
 * engine ask the same questions, so a body refused at run time is refused at load time first.
 */

/** One problem of a form body: the field (empty for the body itself) and what is wrong. */
export interface FormBodyProblem {
  readonly path: readonly string[];
  readonly message: string;
}

const FORM = 'a form-encoded body (content-type application/x-www-form-urlencoded)';

/** Whether a request's own headers ask for a form body instead of JSON. */
export function isFormEncoded(headers: Readonly<Record<string, string>>): boolean {
  return Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'content-type' && value.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded');
}

/**
 * What keeps `body` from being sent form-encoded: a body that is not a mapping, or a field whose
 * value is not a string, number or boolean. Empty when it can be sent.
 * @example formBodyProblems({ 'parameters[columns]': ['fee'] }) // [{ path: ['parameters[columns]'], message: '… not ["fee"]' }]
 */
export function formBodyProblems(body: unknown): FormBodyProblem[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [{ path: [], message: `${FORM} is a mapping of field names to values, not ${JSON.stringify(body)}` }];
  return Object.entries(body)
    .filter(([, value]) => typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    .map(([key, value]) => ({ path: [key], message: `${FORM} holds strings, numbers and booleans, not ${JSON.stringify(value)}` }));
}
