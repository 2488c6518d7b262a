/** The simplest reader: a whole body parsed with `JSON.parse` (token responses, small control bodies). */

import { InvalidJsonError } from '../errors.js';
import type { HttpResponse } from './HttpRequest.js';
import { quoteBody } from './quoteBody.js';

/**
 * Reads a body as JSON.
 * @throws InvalidJsonError when it is not JSON: the API's answer, which asking again would repeat
 */
export async function readJson(response: HttpResponse): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(response.label ?? 'response', quoteBody(text, response.redact) || '(empty body)', response.describe(), { cause: error });
  }
}
