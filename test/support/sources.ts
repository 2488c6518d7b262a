import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';

/**
 * A source definition for the test API, validated by the real loader.
 * `stream` is merged into the single stream `items`; `extra` into the source.
 */
export function testSource(baseUrl: string, stream: Record<string, unknown>, extra: Record<string, unknown> = {}): SourceDefinition {
  const doc = {
    name: 'testapi',
    schedule: 'rate(1 hour)',
    base_url: baseUrl,
    retry: { max_attempts: 4, base_delay_ms: 10, max_delay_ms: 60_000 },
    timeout_ms: 2_000,
    ...extra,
    streams: [{ name: 'items', params: { since: '{window.start}', until: '{window.end}' }, window: '1h', ...stream }],
  };
  return parseSource(JSON.stringify(doc), 'test-source.yaml');
}
