import { describe, expect, it } from 'vitest';
import { DEFAULT_SOURCES_DIR, pathFlag, shellWord } from '../../cli/pathFlags.js';

describe('pathFlag', () => {
  it('leaves out a flag that names the folder it points at anyway, however written', () => {
    expect(pathFlag('sources', DEFAULT_SOURCES_DIR, DEFAULT_SOURCES_DIR)).toBe('');
    expect(pathFlag('sources', `${process.cwd()}/sources/`, DEFAULT_SOURCES_DIR)).toBe('');
  });

  it('names another folder as one shell word, quoted when it must be', () => {
    expect(pathFlag('sources', 'conf/sources', DEFAULT_SOURCES_DIR)).toBe(' --sources conf/sources');
    expect(pathFlag('lake', "my lake's copy", './lake')).toBe(` --lake 'my lake'\\''s copy'`);
  });

  it('quotes what a shell would expand or split', () => {
    for (const text of ['$HOME/x', 'a b', 'x;rm', '*']) expect(shellWord(text)).toMatch(/^'.*'$/);
    expect(shellWord('s3-bucket_1.x')).toBe('s3-bucket_1.x');
  });
});
