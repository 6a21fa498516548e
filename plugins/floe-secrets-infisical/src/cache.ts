/**
 * The read cache: key to value (or "missing") with an expiry, bounded in size.
 *
 * Entries live in an ES private field of the plugin, so neither `util.inspect` nor
 * `JSON.stringify` of the plugin reaches them. A write bumps the generation, so a read that started
 * before the write cannot store its (possibly stale) answer after it.
 */
export class ReadCache {
  readonly #entries = new Map<string, { readonly value: string | undefined; readonly expires: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #generation = 0;

  public constructor(ttlMs: number, maxEntries = 10_000, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** The current generation; pass it back to {@link ReadCache.set}. */
  public get generation(): number {
    return this.#generation;
  }

  /** `{ value }` when `key` is cached and fresh (value undefined: known missing), else undefined. */
  public get(key: string): { readonly value: string | undefined } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: entry.value };
  }

  /** Stores a read, unless the cache is off or a write happened since `generation` was taken. */
  public set(key: string, value: string | undefined, generation: number): void {
    if (this.#ttlMs === 0 || generation !== this.#generation) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs });
  }

  /** Drops `key` and fences reads in flight (they will not be stored). */
  public invalidate(key: string): void {
    this.#generation++;
    this.#entries.delete(key);
  }

  /** Drops everything. */
  public clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
