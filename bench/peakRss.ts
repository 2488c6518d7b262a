/** Peak resident memory of this process, as the kernel counts it (VmHWM), in MiB. */

import { readFileSync } from 'node:fs';

/** VmHWM from /proc/self/status; falls back to the current RSS where /proc is absent. */
export function peakRssMiB(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss / 1024 / 1024;
}
