import { z } from 'zod';
import { SecretsConfigError } from './errors';
import { Masked } from './masked';

/** A zod schema for a credential: a non-empty string, parsed into a {@link Masked}. */
export function maskedString(): z.ZodType<Masked, string> {
  return z.string().min(1).transform((value) => new Masked(value));
}

/**
 * Parses a plugin's configuration with its strict zod schema and freezes the result (CR-003).
 *
 * @throws SecretsConfigError listing every problem by field path, never quoting a value
 */
export function parseConfig<T>(plugin: string, schema: z.ZodType<T>, input: unknown): Readonly<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(config)';
      if (issue.code === 'unrecognized_keys') return `${path}: unknown field(s) ${issue.keys.join(', ')}; remove them`;
      if (issue.code === 'invalid_type') return `${path}: expected ${issue.expected}; set it`;
      return `${path}: ${issue.message.replace(/received .*/i, '').trim()}`;
    });
    throw new SecretsConfigError(`${plugin}: invalid configuration:\n  ${problems.join('\n  ')}`, plugin);
  }
  return Object.freeze(result.data);
}
