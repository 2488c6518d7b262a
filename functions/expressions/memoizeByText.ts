/**
 * `compute` remembered by its text argument, for what a source names in its files and the engine
 * uses on every page (records paths, JMESPath expressions). Past `max` distinct texts the memory
 * starts again: they come from source files, so it never should.
 */
export function memoizeByText<T>(compute: (text: string) => T, max = 1_000): (text: string) => T {
  const known = new Map<string, T>();
  return (text) => {
    let value = known.get(text);
    if (value === undefined) {
      if (known.size >= max) known.clear();
      known.set(text, (value = compute(text)));
    }
    return value;
  };
}
