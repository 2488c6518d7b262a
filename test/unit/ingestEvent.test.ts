import { describe, expect, it } from 'vitest';
import { InputError } from '../../functions/errors.js';
import { parseIngestEvent } from '../../functions/ingest/event.js';
import { summarizeEvent } from '../../functions/ingest/ingest.js';

const WINDOW = { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' };

describe("a backfill event's task token", () => {
  it('is kept on the window event', () => {
    expect(parseIngestEvent({ source: 's', stream: 't', window: WINDOW, force: false, taskToken: 'AQB8AAAAKgAAAAMAAAAA+/=' })).toMatchObject({
      kind: 'window',
      force: false,
      taskToken: 'AQB8AAAAKgAAAAMAAAAA+/=',
    });
  });

  it('is absent when the event has none', () => {
    expect(parseIngestEvent({ source: 's', window: WINDOW })).not.toHaveProperty('taskToken');
  });

  it.each([
    ['', 'taskToken: expected a non-empty string, received an empty one'],
    [42, 'taskToken: expected a non-empty string, received number'],
    [null, 'taskToken: expected a non-empty string, received null'],
    ['x'.repeat(2049), 'taskToken: expected at most 2048 characters, received 2049'],
  ])('fails if it is %j', (taskToken, problem) => {
    const parse = () => parseIngestEvent({ source: 's', window: WINDOW, taskToken });
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(`invalid event, expected {source, stream?, window: {start, end}, force?, taskToken?}: ${problem}`);
  });

  it('fails on a scheduled event, which no task waits for', () => {
    expect(() => parseIngestEvent({ source: 's', scheduledTime: '2024-01-01T00:00:00Z', taskToken: 't' })).toThrow('invalid event, expected {source, scheduledTime}: taskToken: unknown field');
  });

  it('is never echoed: not in the error of a too-long token, nor in the logged summary of a rejected event', () => {
    const token = `secret-${'x'.repeat(2048)}`;
    const error = (() => {
      try {
        parseIngestEvent({ source: 's', window: WINDOW, taskToken: token });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error!.message).not.toContain('secret-');
    expect(JSON.stringify(summarizeEvent({ source: 's', window: 'bad', taskToken: token }))).not.toContain('secret-');
  });
});
