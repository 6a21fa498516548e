/**
 * Whether output to a stream may be coloured: never when `NO_COLOR` is set to anything but the
 * empty string (https://no-color.org); always when `FORCE_COLOR` is set (other than `0` or
 * `false`, which turn colour off); else only on a terminal that is not `TERM=dumb`. The same rule
 * as commander's own for help, read from `env` rather than the process.
 */
export function colorEnabled(env: { readonly [name: string]: string | undefined }, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force === '0' || force === 'false') return false;
  if (force) return true;
  return isTTY && env.TERM !== 'dumb';
}

/** Text styles for a terminal; each one the identity when colour is off. */
export interface Style {
  readonly bold: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
}

/** ANSI SGR sequences, each closed by its own reset so that styles can nest. */
export const COLOR: Style = {
  bold: (text) => `\u001b[1m${text}\u001b[22m`,
  red: (text) => `\u001b[31m${text}\u001b[39m`,
  green: (text) => `\u001b[32m${text}\u001b[39m`,
};

/** No styles: plain text. */
export const PLAIN: Style = { bold: (text) => text, red: (text) => text, green: (text) => text };

/** {@link COLOR} when {@link colorEnabled}, else {@link PLAIN}. */
export function styleFor(env: { readonly [name: string]: string | undefined }, isTTY: boolean): Style {
  return colorEnabled(env, isTTY) ? COLOR : PLAIN;
}
