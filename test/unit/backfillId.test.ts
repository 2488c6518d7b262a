import { describe, expect, it } from 'vitest';
import { backfillName, backfillNameTime, backfillRangeKey, executionArn, parseBackfillId } from '../../cli/backfill/backfillId.js';

const RANGE = { source: 'shop', from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z', force: false };
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:apilake-prod-shop-backfill';

describe('backfill names', () => {
  it('names a backfill by its source, a digest of its range and its start to the millisecond', () => {
    expect(backfillName(RANGE, new Date('2026-12-06T20:00:01.042Z'))).toMatch(/^shop-[0-9a-f]{12}-20261206T200001042Z$/);
  });

  it('reads back the time a name carries, to the millisecond, and none from a name without one', () => {
    const at = new Date('2026-12-06T20:00:01.042Z');
    expect(backfillNameTime(backfillName(RANGE, at))).toBe(at.getTime());
    expect(backfillNameTime(backfillName({ ...RANGE, source: 'a'.repeat(64) }, at))).toBe(at.getTime());
    expect(backfillNameTime('shop-0123456789ab')).toBeUndefined();
    expect(backfillNameTime('shop-0123456789ab-20240230T000000000Z')).toBeUndefined();
  });

  it.each([
    ['another stream', { ...RANGE, stream: 'orders' }],
    ['another start', { ...RANGE, from: '2024-01-02T00:00:00Z' }],
    ['another end', { ...RANGE, to: '2024-12-31T00:00:00Z' }],
    ['force', { ...RANGE, force: true }],
  ])('gives %s another range key', (_, other) => {
    expect(backfillRangeKey(other)).not.toBe(backfillRangeKey(RANGE));
  });

  it('gives the same range the same key at any time', () => {
    expect(backfillName(RANGE, new Date(0)).startsWith(`${backfillRangeKey({ ...RANGE })}-`)).toBe(true);
  });

  it('keeps the name within the 80 characters Step Functions allows, and readable back', () => {
    const source = 'a'.repeat(64);
    const name = backfillName({ ...RANGE, source }, new Date('2026-12-06T20:00:00Z'));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(parseBackfillId(name)).toEqual({ kind: 'name', name, source: 'a'.repeat(40) });
  });
});

describe('parseBackfillId', () => {
  it.each([
    [`${MACHINE.replace(':stateMachine:', ':execution:')}:shop-0123456789ab-20261206T200000000Z`, { kind: 'arn', name: 'shop-0123456789ab-20261206T200000000Z' }],
    [`arn:aws-cn:states:cn-north-1:123456789012:execution:m:github_issues-0123456789ab-20261206T200000000Z`, { kind: 'arn', name: 'github_issues-0123456789ab-20261206T200000000Z' }],
    ['github_issues-0123456789ab-20261206T200000000Z', { kind: 'name', source: 'github_issues' }],
    ['  shop-0123456789ab-20261206T200000Z ', { kind: 'name', source: 'shop', name: 'shop-0123456789ab-20261206T200000Z' }],
  ])('reads %s', (id, expected) => {
    expect(parseBackfillId(id)).toMatchObject(expected);
  });

  it.each([
    '',
    'shop',
    'shop-0123456789ab',
    'Shop-0123456789ab-20261206T200000Z',
    'shop-0123456789AB-20261206T200000Z',
    'arn:aws:states:eu-west-1:123456789012:stateMachine:apilake-prod-shop-backfill',
    'arn:aws:states:eu-west-1:123:execution:m:n',
    'arn:aws:lambda:eu-west-1:123456789012:function:f',
  ])('fails for %j, saying what an id looks like', (id) => {
    expect(() => parseBackfillId(id)).toThrow(/is not a backfill id: expected the execution ARN .* or the name \(<source>-<12 hex>-<time>\)/);
  });

  it('builds the execution ARN of a name from its state machine', () => {
    expect(executionArn(MACHINE, 'shop-x')).toBe('arn:aws:states:eu-west-1:123456789012:execution:apilake-prod-shop-backfill:shop-x');
  });
});
