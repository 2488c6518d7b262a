/** How a synchronous implementation meets an asynchronous interface. */

/**
 * What `compute` returns, as a promise; what it throws, as the promise's rejection (the way an
 * `async` function behaves, without one that awaits nothing). `compute` runs before this returns.
 * @example
 * ```ts
 * readVersioned(name: string): Promise<VersionedSecret> {
 *   return promised(() => this.readNow(name)); // a missing secret rejects, never throws
 * }
 * ```
 */
export function promised<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}
