// Preloaded into a child process (`node --import <this file> …`): at exit, writes the process's
// peak resident set size (getrusage maxrss, the kernel's VmHWM) in KiB to the file named by
// APILAKE_TEST_PEAK_RSS_FILE, so a test can bound the memory of the CLI as a user runs it.
import { writeFileSync } from 'node:fs';

const file = process.env.APILAKE_TEST_PEAK_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
