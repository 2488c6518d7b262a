/** Bodies for the record-pipeline benchmark: records of about 1 KB, like a GitHub or Stripe event. */

/** A record of about 1 KB of JSON: nested objects, URLs, timestamps, non-ASCII text, escapes, numbers of every kind. */
export function oneKbRecord(id: number): string {
  const login = `user-${id % 9973}`;
  const record = {
    id: 30_000_000_000 + id,
    type: ['PushEvent', 'IssuesEvent', 'PullRequestEvent'][id % 3],
    public: id % 7 !== 0,
    created_at: new Date(1_700_000_000_000 + id * 1000).toISOString(),
    actor: {
      id: 1_000_000 + (id % 9973),
      login,
      display_login: login,
      gravatar_id: '',
      url: `https://api.github.com/users/${login}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${1_000_000 + (id % 9973)}?v=4`,
    },
    repo: { id: 100_000 + (id % 4999), name: `org-${id % 97}/repo-${id % 4999}`, url: `https://api.github.com/repos/org-${id % 97}/repo-${id % 4999}` },
    payload: {
      push_id: 15_000_000_000 + id,
      size: 1 + (id % 4),
      ref: 'refs/heads/main',
      head: `${(id * 2654435761).toString(16).padStart(8, '0')}9f2c4e1b7a3d5f60${(id % 65536).toString(16).padStart(4, '0')}aa`,
      commits: [
        {
          sha: `${(id * 40503).toString(16).padStart(8, '0')}c0ffee0ddba11deadbeef${(id % 4096).toString(16).padStart(3, '0')}00`,
          author: { email: `${login}@users.noreply.github.com`, name: `Zoë Ångström ${id % 100}` },
          message: `Fix "edge case" in parser\n\nHandles \\ and tabs\tcorrectly — see #${id % 1000}`,
          distinct: true,
        },
      ],
    },
    amount: { value: (id % 100_000) / 100, currency: 'EUR', rate: Number(`1.08${25 + (id % 10)}`) },
    labels: ['bug', 'needs-triage', `p${id % 4}`],
    body: `Steps to reproduce: run the importer on page ${id % 500} with a cursor past the end; expected an empty page, got HTTP 500 instead.`,
    score: id % 11 === 0 ? null : (id % 1000) / 8,
  };
  return JSON.stringify(record);
}

/**
 * A page body `{"data":[…],"meta":{…}}` of `count` records starting at `first`.
 * @param orderNumber put a 16-digit order number (a string) in the first record, as many real
 *   APIs do: today's path then sends the whole page through lossless-json.
 */
export function pageBody(first: number, count: number, orderNumber = false): Buffer {
  const records: string[] = [];
  for (let i = 0; i < count; i++) records.push(oneKbRecord(first + i));
  if (orderNumber) records[0] = records[0]!.replace(/^\{/, `{"order_no":"${4_000_000_000_000_000 + first}",`);
  return Buffer.from(`{"data":[${records.join(',')}],"meta":{"next_cursor":"c${first + count}","total":1000000,"has_more":true}}`);
}
