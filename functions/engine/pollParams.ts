/**
 * The query parameters of a job's paged download (`download.params`) filled from its poll
 * (`{job.<field>}`, other than `{job.id}` and `{job.key}`): a value the API hands out with the done
 * job, such as a download token or signature. A checkpoint within the download leaves them out of
 * the results walk's next request (the durable execution service stores it and shows it), and the
 * slice that takes the download up fills them again from its own poll of the job, so a value that
 * expires is renewed as well.
 */

import type { PagingToken } from '../pagination/PagingToken.js';
import { placeholdersIn } from '../window/templating.js';

/** Names of `params` whose value a poll of the job fills. */
export function pollParamNames(params: Readonly<Record<string, string | number | boolean>>): string[] {
  const fromPoll = (name: string) => name.startsWith('job.') && name !== 'job.id' && name !== 'job.key';
  return Object.entries(params)
    .filter(([, value]) => typeof value === 'string' && placeholdersIn(value).some(fromPoll))
    .map(([key]) => key);
}

/**
 * `paging` with the poll's parameters `names` taken out of its next request, where that request
 * still carries them as the download's first request `first` set them; and the names taken out.
 */
export function withoutPollParams(paging: PagingToken, first: URL, names: readonly string[]): { paging: PagingToken; left: string[] } {
  if (paging.kind !== 'sequential' || names.length === 0) return { paging, left: [] };
  const url = new URL(paging.request.url);
  // A parameter the walk set itself (a cursor of the same name) is the walk's position, not the poll's value.
  const left = names.filter((name) => url.searchParams.has(name) && url.searchParams.get(name) === first.searchParams.get(name));
  for (const name of left) url.searchParams.delete(name);
  return { paging: { ...paging, request: { ...paging.request, url: url.href } }, left };
}

/**
 * `paging` with the parameters `left` out of its next request set again as the download's first
 * request `first` (rendered from this slice's poll) sets them.
 * @returns undefined when `first` lacks one of them
 */
export function withPollParams(paging: PagingToken, first: URL, left: readonly string[]): PagingToken | undefined {
  if (paging.kind !== 'sequential' || left.length === 0) return paging;
  const url = new URL(paging.request.url);
  for (const name of left) {
    const value = first.searchParams.get(name);
    if (value === null) return undefined;
    url.searchParams.set(name, value);
  }
  return { ...paging, request: { ...paging.request, url: url.href } };
}
