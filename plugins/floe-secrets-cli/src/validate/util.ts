import { SecretsError } from '@floe-secrets/core';
import { notCheckable } from './backends';
import { CheckContext } from './checks';
import { Access } from '../access-map/model';

export { groupBy } from '../access-map/objects';

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

/** {@link pool}, with a progress phase of one step per item. */
export async function poolWithProgress<T>(context: CheckContext, phase: string, items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  context.progress.start(phase, items.length);
  await pool(items, async (item) => {
    try {
      await fn(item);
    } finally {
      context.progress.tick();
    }
  });
}

/**
 * Whether manifest.yaml's backend can check content that lives in `type`. When it cannot, records
 * why: a note (`note(why)`) when the manifest configures another backend, an error when it did
 * not answer.
 */
export async function backendReady(context: CheckContext, type: 'infisical' | 'vault', note: (why: string) => string): Promise<boolean> {
  const why = notCheckable(context.backend, type);
  if (why) {
    context.notes.push(note(why));
    return false;
  }
  const unhealthy = await context.reads.unhealthy();
  if (unhealthy) {
    context.errors.push(`${type}: the backend of ${context.backend.manifestPath} did not answer: ${unhealthy}`);
    return false;
  }
  return true;
}

/** The non-empty string value, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
