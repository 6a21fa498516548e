/** How a backend call is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Delay before the first retry, before jitter. */
  readonly baseDelayMs: number;
  /** Upper bound of any one delay. */
  readonly maxDelayMs: number;
  /** Upper bound of the whole call, retries and delays included. */
  readonly totalTimeoutMs: number;
  /** Timeout of each attempt. */
  readonly attemptTimeoutMs: number;
}

/** Defaults: 4 attempts, 100 ms doubling to at most 2 s, 5 s per attempt, 15 s in all. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  totalTimeoutMs: 15_000,
  attemptTimeoutMs: 5_000,
};

/** Raised inside {@link withTimeout} when the time is up. */
export class TimeoutError extends Error {
  public constructor(public readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms`, and rejects with {@link TimeoutError} then,
 * whether or not `fn` honours the signal.
 */
export async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new TimeoutError(ms));
      reject(new TimeoutError(ms));
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `fn` until it succeeds, it fails with an error `isTransient` rejects, the attempts run out,
 * or the total time would be exceeded; delays grow exponentially with full jitter. An error that
 * carries `retryAfterMs` (a server's Retry-After) waits at least that long, and ends the retries
 * when that wait would pass the total time.
 *
 * @returns the result, or rethrows the last error
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  fn: (signal: AbortSignal) => Promise<T>,
  random: () => number = Math.random,
): Promise<T> {
  const deadline = Date.now() + policy.totalTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    try {
      return await withTimeout(Math.max(1, Math.min(policy.attemptTimeoutMs, remaining)), fn);
    } catch (error) {
      const backoff = Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      const delay = Math.max(backoff, retryAfterOf(error) ?? 0);
      if (attempt >= policy.attempts || !isTransient(error) || Date.now() + delay >= deadline) throw error;
      await new Promise((done) => setTimeout(done, delay));
    }
  }
}

/** The Retry-After an error carries (see `HttpStatusError`), in milliseconds. */
export function retryAfterOf(error: unknown): number | undefined {
  const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
