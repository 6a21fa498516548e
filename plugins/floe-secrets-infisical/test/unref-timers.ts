/**
 * Test harness only. `@infisical/sdk` v5 takes no AbortSignal and retries a failed fetch itself
 * (four times, sleeping 1 s, 2 s, 4 s, 8 s) with ordinary timers. When the core has already given up
 * on a call (its attempt timeout), those background retries go on for up to ~15 s more and would
 * keep Jest from exiting after the last test. Importing this file first makes the test sandbox's
 * timers unref'd: they still fire while tests run (Jest's own timers keep the process alive), but
 * no longer hold the process open once the tests are done. Production code is not affected.
 */
const realSetTimeout = globalThis.setTimeout;

globalThis.setTimeout = ((...args: Parameters<typeof realSetTimeout>) => {
  const timer = realSetTimeout(...args);
  timer.unref();
  return timer;
}) as unknown as typeof globalThis.setTimeout;

export {};
