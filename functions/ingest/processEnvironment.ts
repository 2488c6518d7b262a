/**
 * Variables the deployed function's process starts with, set by the stack beside its
 * configuration. Each must be read when the process starts, so the function cannot set it itself.
 *
 * `MALLOC_ARENA_MAX=2`: glibc's malloc gives each thread that contends for it an arena of its
 * own, up to 8 per core (mallopt(3), M_ARENA_MAX), and keeps what is freed in the arena it came
 * from. A landing runs the main thread, the Parquet encoder thread, V8's helper threads and
 * libuv's pool, each allocating and freeing buffers; with two arenas less freed memory sits idle in
 * arenas no thread is using. Measured on a 1 GiB CSV file with its Parquet table (bench/csvMemory.ts,
 * docs/performance.md): peak RSS 258–267 MiB against 284–314 MiB, landing time within the
 * machine's spread. Heroku sets the same default for the same reason
 * (devcenter.heroku.com/articles/tuning-glibc-memory-behavior).
 */
export const FUNCTION_PROCESS_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
