/**
 * Loaded with `node --import` into a CLI process of the fault suite: moves this process's wall
 * clock (`Date`) by APILAKE_TEST_CLOCK_SKEW_MS, as on a machine whose clock is that far off.
 * The monotonic clock and the file system's timestamps are left alone, as a wrong wall clock
 * leaves them.
 */
const skew = Number(process.env.APILAKE_TEST_CLOCK_SKEW_MS ?? 0);
if (Number.isFinite(skew) && skew !== 0) {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...args);
    }
    static now() {
      return RealDate.now() + skew;
    }
  }
  globalThis.Date = SkewedDate;
}
