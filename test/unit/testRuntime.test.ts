import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ENGINES = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;
/** Set by `npm run test:node22` (test/support/node22.ts): the Node every process of the run must be. */
const ASKED = process.env.APILAKE_TEST_NODE;

const parts = (version: string) => version.replace(/^v/, '').split('.').map(Number);

describe('the Node the tests run on', () => {
  it(`is one package.json engines allows (${ENGINES})`, () => {
    const floor = /^>=(\d+)\.(\d+)$/.exec(ENGINES);
    expect(floor, `engines.node is ${ENGINES}; this test reads ">=major.minor"`).not.toBeNull();
    const [major, minor] = parts(process.version);
    const [floorMajor, floorMinor] = [Number(floor![1]), Number(floor![2])];
    expect(major! > floorMajor || (major === floorMajor && minor! >= floorMinor), `${process.version} is below ${ENGINES}`).toBe(true);
  });

  it.runIf(ASKED)(`is the one this run asked for (${ASKED}), in the test process and in what it starts with process.execPath or as node`, () => {
    // vitest's forks pool starts test processes with the runner's process.execPath: this runs in one.
    expect(process.version).toBe(ASKED);
    expect(execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim()).toBe(ASKED);
    expect(execFileSync('node', ['--version'], { encoding: 'utf8' }).trim()).toBe(ASKED);
  });
});
