import { SecretsConfigError } from './errors';

// The types here are the package's own, not zod's: a declaration that imports zod makes an app that
// compiles without esModuleInterop fail inside zod's declaration files. Plugins keep their zod
// schemas in modules that no exported declaration imports; a credential field there is one line,
// `z.string().min(1).transform((value) => new Masked(value))`.

/** One problem a {@link ConfigSchema} found: the fields of a zod issue that {@link parseConfig} reads. */
export interface ConfigIssue {
  /** The kind of problem, e.g. `invalid_type`, `unrecognized_keys`, `too_small` or `custom`. */
  readonly code: string;
  /** The fields and list indexes leading to the value; empty for the configuration as a whole. */
  readonly path: ReadonlyArray<PropertyKey>;
  /** The problem in words. */
  readonly message: string;
  /**
   * The unknown fields, for code `unrecognized_keys`.
   *
   * @default - none (other codes)
   */
  readonly keys?: ReadonlyArray<string>;
  /**
   * The type the value should have, for code `invalid_type`.
   *
   * @default - none (other codes)
   */
  readonly expected?: string;
}

/** The outcome of {@link ConfigSchema.safeParse}: the parsed value, or every problem found. */
export type ConfigParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: ReadonlyArray<ConfigIssue> } };

/**
 * What {@link parseConfig} needs of a schema. A zod schema is one: `z.strictObject({ ... })` parses
 * into `T`, its `z.output`.
 */
export interface ConfigSchema<T> {
  /** Parses `input` without throwing. */
  safeParse(input: unknown): ConfigParseResult<T>;
}

/** `T` with `readonly` removed at every depth, so that {@link SameShape} compares fields only. */
type Plain<T> = T extends object ? { -readonly [K in keyof T]: Plain<T[K]> } : T;

/**
 * `true` when `A` and `B` have the same fields, each as optional and of the same type, at every
 * depth (readonly or not); else `false`. A plugin proves with it at compile time that the input and
 * output of its schema are exactly its documented configuration interfaces, e.g.
 * `const documented: SameShape<z.input<typeof schema>, MyPluginConfig> = true;` stops compiling
 * when a field is added to, removed from or changed in only one of them.
 */
export type SameShape<A, B> = (<G>() => G extends Plain<A> ? 1 : 2) extends (<G>() => G extends Plain<B> ? 1 : 2) ? true : false;

/**
 * Parses a plugin's configuration with its strict schema (a zod schema) and freezes the result.
 *
 * @throws SecretsConfigError listing every problem by field path, never quoting a value
 * @requirement CR-003 (strict plugin configuration, masked credentials)
 */
export function parseConfig<T>(plugin: string, schema: ConfigSchema<T>, input: unknown): Readonly<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(config)';
      if (issue.code === 'unrecognized_keys' && issue.keys) return `${path}: unknown field(s) ${issue.keys.join(', ')}; remove them`;
      if (issue.code === 'invalid_type' && issue.expected) return `${path}: expected ${issue.expected}; set it`;
      return `${path}: ${issue.message.replace(/received .*/i, '').trim()}`;
    });
    throw new SecretsConfigError(`${plugin}: invalid configuration:\n  ${problems.join('\n  ')}`, plugin);
  }
  return Object.freeze(result.data);
}
