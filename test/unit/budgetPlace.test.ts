import { describe, expect, it } from 'vitest';
import { budgetPlace, describeBudgetChange } from '../../cli/budgetPlace.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';

const folder = new FsLakeStorage('/tmp/lake');
const bucket = new S3LakeStorage({ bucket: 'lake', prefix: '' });

describe('budgetPlace', () => {
  it.each([
    ['the DynamoDB table APILAKE_BUDGET_TABLE names, for a folder lake', folder, { APILAKE_BUDGET_TABLE: 'apilake-budget' }, { kind: 'dynamodb', table: 'apilake-budget' }],
    ['the DynamoDB table APILAKE_BUDGET_TABLE names, for a lake in S3', bucket, { APILAKE_BUDGET_TABLE: 'apilake-budget' }, { kind: 'dynamodb', table: 'apilake-budget' }],
    ['the lake folder, for a folder lake without it', folder, {}, { kind: 'lake', folder: '/tmp/lake' }],
    ['the process, for a lake in S3 without it', bucket, { APILAKE_BUDGET_TABLE: '' }, { kind: 'process' }],
  ])('keeps the budget in %s', (_title, storage, env, place) => {
    expect(budgetPlace(storage, env)).toEqual(place);
  });
});

describe('describeBudgetChange', () => {
  it.each([
    [
      { kind: 'fallback', reason: 'connect ECONNREFUSED 127.0.0.1:8000', requestsPerSecond: 2.380952 } as const,
      /unreachable \(connect ECONNREFUSED 127\.0\.0\.1:8000\); this run keeps to its share, 2\.381 requests\/s/,
    ],
    [{ kind: 'shared' } as const, /reachable again/],
  ])('says what the run does now: %j', (change, line) => {
    expect(describeBudgetChange(change)).toMatch(line);
  });
});
