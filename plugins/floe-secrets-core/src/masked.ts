import { inspect } from 'node:util';

const MASK = '**********';

/**
 * A credential that never shows itself (the SecretStr of the Python contract): `String()`,
 * template literals, `JSON.stringify` and `util.inspect` (so `console.log`) all print
 * `**********`. Only {@link Masked.reveal} gives the value, at the one place that sends it.
 *
 * @requirement seed 001 CR-003
 */
export class Masked {
  readonly #value: string;

  public constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The value. Call it only where the value leaves for the backend. */
  public reveal(): string {
    return this.#value;
  }

  public toString(): string {
    return MASK;
  }

  public toJSON(): string {
    return MASK;
  }

  public [inspect.custom](): string {
    return `Masked(${MASK})`;
  }
}
