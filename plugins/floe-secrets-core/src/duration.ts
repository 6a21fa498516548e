const UNIT_NANOS: { readonly [unit: string]: number } = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Parses a Go-style duration (`time.ParseDuration`): a sequence of decimal numbers, each with an
 * optional fraction and a unit, such as `90s`, `1m30s`, `1.5h` or `500ms`. Units are `ns`, `us`
 * (or `µs`), `ms`, `s`, `m` and `h`; `0` alone is zero.
 *
 * Sub-second parts are kept, not rounded: `500ms` is `0.5` (computed in whole nanoseconds, so
 * `1.1m` is exactly `66`). Stricter than Go, as the operators' own parsers are: a sign, spaces, a
 * missing unit, or a number without digits on both sides of its point make the text unparseable
 * (`-5s`, `5 s`, `60`, `.5m`, `5.s`).
 *
 * @returns the duration in seconds, or `undefined` when `text` is not a duration
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!text) return undefined;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/y;
  let nanos = 0;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (!match) return undefined;
    const [whole, fraction = ''] = match[1].split('.');
    const unit = UNIT_NANOS[match[2]];
    nanos += Number(whole) * unit + (fraction ? Math.round((Number(fraction) * unit) / 10 ** fraction.length) : 0);
  }
  return Number.isFinite(nanos) ? nanos / 1e9 : undefined;
}
