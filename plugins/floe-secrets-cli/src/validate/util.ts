import { SecretsError } from '@floe-secrets/core';
import { Access } from '../access-map/model';

/** How many backend reads run at once. */
export const CONCURRENCY = 8;

/** `namespace/Kind/name` of the workload an access belongs to. */
export function label(a: Access): string {
  const [kind, ...name] = (a.workload ?? '?/?').split('/');
  return `${a.namespace}/${kind}/${name.join('/')}`;
}

/** `<how> secret <name> [key <keys>]`: what a workload reads, for the report. */
export function reference(a: Access, keys: readonly string[] | undefined = a.keys): string {
  return `${a.how} secret ${a.secret}${keys && keys.length > 0 ? ` key ${keys.join(', ')}` : ''}`;
}

/** Items grouped by `key`, in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

/** A backend error for the report: its type and message (which never hold a value); anything else by type only. */
export function describe(error: unknown): string {
  if (error instanceof SecretsError) return `${error.name}: ${error.message}`;
  return `${(error as Error)?.name ?? 'error'} (unexpected)`;
}

/** Runs `fn` over `items`, at most {@link CONCURRENCY} at a time. */
export async function pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** The non-empty string value, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
