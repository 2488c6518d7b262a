/**
 * The records array of a parsed page as pagination expressions see it: a real array to
 * `Array.isArray` and to Powertools JMESPath (`data[-1].id`, `length(data)`, `data[*].id`),
 * whose elements are parsed only when an expression reads them. A cursor reading the last
 * record parses one record, not a hundred.
 */

/**
 * An array of `length` elements; element `i` is `load(i)`, called at most once.
 * A Proxy over a holey array: `Array.isArray` and `Object.prototype.toString` see through it
 * (ECMA-262 IsArray), so libraries treat it as the array it stands for.
 */
export function lazyRecordsArray(length: number, load: (index: number) => unknown): unknown[] {
  const target: unknown[] = new Array<unknown>(length);
  const indexOf = (key: string | symbol): number => {
    if (typeof key !== 'string' || key.length === 0 || key.length > 10) return -1;
    const first = key.charCodeAt(0);
    if (first < 0x30 || first > 0x39 || (first === 0x30 && key.length > 1)) return -1;
    const index = Number(key);
    return Number.isInteger(index) && index < length ? index : -1;
  };
  const materialise = (index: number) => {
    if (!(index in target)) target[index] = load(index);
  };
  return new Proxy(target, {
    get(array, key, receiver) {
      const index = indexOf(key);
      if (index >= 0) materialise(index);
      return Reflect.get(array, key, receiver) as unknown;
    },
    has(array, key) {
      return indexOf(key) >= 0 || Reflect.has(array, key);
    },
    getOwnPropertyDescriptor(array, key) {
      const index = indexOf(key);
      if (index >= 0) materialise(index);
      return Reflect.getOwnPropertyDescriptor(array, key);
    },
    ownKeys(array) {
      for (let index = 0; index < length; index++) materialise(index);
      return Reflect.ownKeys(array);
    },
  });
}
