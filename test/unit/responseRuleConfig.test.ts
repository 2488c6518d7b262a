import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { configProblems } from '../support/configProblems.js';

const SOURCE = `
name: shop
schedule: rate(1 hour)
base_url: https://api.example.com
auth: { type: api_key, secret: apilake/shop, in: header, name: X-API-Key }
rate_limit:
  budget: { remaining: meta.left, restore_per_second: meta.restore }
response_rules:
  - when: { status: 200, body: "errors[?extensions.code=='THROTTLED']" }
    action: retry
    wait: budget
streams:
  - name: orders
    path: /v1/orders
    records: data
    response_rules:
      - when: { status: [403, "5xx"], headers: { X-Reason: "/quota/i", Retry-After: true } }
        action: retry
        wait: header:retry-after
`;

describe('response_rules and rate_limit.budget in a source', () => {
  it('accepts rules at the source and on a stream, defaults filled', () => {
    const source = parseSource(SOURCE, 'shop.yaml');
    expect(source.response_rules).toEqual([{ when: { status: 200, body: "errors[?extensions.code=='THROTTLED']" }, action: 'retry', wait: 'budget', wait_unit: 's' }]);
    expect(source.streams[0]!.response_rules[0]!.when.status).toEqual([403, '5xx']);
    expect(source.rate_limit.budget).toEqual({ remaining: 'meta.left', restore_per_second: 'meta.restore' });
  });

  it.each([
    ['a body that is not JMESPath', SOURCE.replace(`body: "errors[?extensions.code=='THROTTLED']"`, 'body: "errors["'), 'response_rules[0].when.body', /not valid JMESPath/],
    ['a rule without a condition', SOURCE.replace(`{ status: 200, body: "errors[?extensions.code=='THROTTLED']" }`, '{}'), 'response_rules[0].when', /at least one of status, headers or body/],
    ['an unknown action', SOURCE.replace('action: retry\n    wait: budget', 'action: skip'), 'response_rules[0].action', /Invalid option/],
    ['a status out of range', SOURCE.replace('status: [403, "5xx"]', 'status: 99'), 'streams[0].response_rules[0].when.status', /./],
    [
      'a status class that is not one',
      SOURCE.replace('"5xx"', '"6xx"'),
      'streams[0].response_rules[0].when.status[1]',
      /^Invalid input: expected a number, "1xx", "2xx", "3xx", "4xx" or "5xx", got "6xx"$/,
    ],
    ['an invalid header name', SOURCE.replace('X-Reason:', '"X Reason":'), 'streams[0].response_rules[0].when.headers.X Reason', /not a valid header name/],
    ['an invalid header pattern', SOURCE.replace('"/quota/i"', '"/(quota/"'), 'streams[0].response_rules[0].when.headers.X-Reason', /not a valid regular expression/],
    ['a wait on a rule that does not retry', SOURCE.replace('action: retry\n    wait: budget', 'action: fail\n    wait: budget'), 'response_rules[0].wait', /applies to action: retry only/],
    ['wait: budget without a budget', SOURCE.replace('  budget: { remaining: meta.left, restore_per_second: meta.restore }', '  concurrency: 1'), 'response_rules[0].wait', /needs rate_limit.budget/],
    ['a wait header that is not a header name', SOURCE.replace('header:retry-after', 'header:retry after'), 'streams[0].response_rules[0].wait', /not a valid header name/],
    [
      'refresh_auth on an API key',
      SOURCE.replace('action: retry\n    wait: budget', 'action: refresh_auth'),
      'response_rules[0].action',
      /needs an auth whose token can be refreshed .*auth.type is api_key/,
    ],
    [
      'a budget with both a restore rate and a reset',
      SOURCE.replace('restore_per_second: meta.restore', 'restore_per_second: meta.restore, reset: meta.reset'),
      'rate_limit.budget',
      /either restore_per_second .* or reset/,
    ],
    ['a budget with neither', SOURCE.replace(', restore_per_second: meta.restore', ''), 'rate_limit.budget', /either restore_per_second .* or reset/],
    [
      'a stop_when_headers pattern that does not compile',
      SOURCE.replace('    records: data\n', '    records: data\n    pagination: { type: link_header, stop_when_headers: { X-Done: "/(/" } }\n'),
      'streams[0].pagination.stop_when_headers.X-Done',
      /not a valid regular expression/,
    ],
    ['a budget expression that is not JMESPath', SOURCE.replace('remaining: meta.left', 'remaining: "meta.["'), 'rate_limit.budget.remaining', /not valid JMESPath/],
  ])('fails on %s', (_what, text, path, message) => {
    const problems = configProblems(text);
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)!.message).toMatch(message);
  });
});
