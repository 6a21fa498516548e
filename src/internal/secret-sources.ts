import { parseDuration } from '@floe-secrets/core';
import type { IFloeSecret } from '../floe-secret';
import { quote } from './validation';

/** How the user sets a workload's run deadline: named in the error that asks for one. */
export interface RunDeadlineSetting {
  /** The prop the user sets, e.g. `activeDeadlineSeconds`. */
  readonly name: string;
  /** A number of seconds, written as a value of that prop, e.g. `3600` or `Duration.seconds(3600)`. */
  readonly format: (seconds: number) => string;
}

/**
 * The rotation rule of a workload that runs to completion ({@link SecretWorkload}, or a kplus Job
 * or CronJob wired by {@link WorkloadSecrets}): every secret it reads whose source
 * declares a rotation period needs a run deadline of at most that period, so that no run outlives
 * the credential. `deadlineSeconds` is called only when such a secret is read (it may render the
 * workload); it returns undefined for no deadline, or null when the deadline cannot be known
 * because the workload fails to render, which the synth reports itself: no problem is added then.
 *
 * @returns one message per secret that breaks the rule, empty when none does
 */
export function rotationProblems(
  path: string,
  secrets: readonly IFloeSecret[],
  deadlineSeconds: () => number | undefined | null,
  setting: RunDeadlineSetting,
): string[] {
  const rotating = secrets.filter((secret) => Boolean(secret.source?.rotationPeriod));
  if (rotating.length === 0) return [];
  const deadline = deadlineSeconds();
  if (deadline === null) return [];
  const problems: string[] = [];
  for (const secret of rotating) {
    const period = secret.source!.rotationPeriod!;
    const periodSeconds = parseDuration(period)!;
    if (deadline !== undefined && deadline <= periodSeconds) continue;
    problems.push(
      `${path}: secret ${quote(secret.secretName)} rotates every ${period} (${secret.managedBy}), but ` +
        (deadline === undefined ? `this workload has no ${setting.name}` : `${setting.name} is ${setting.format(deadline)}`) +
        ', so a run could outlive the credential; ' +
        `set ${setting.name} to at most ${setting.format(periodSeconds)} so that every run completes before the secret expires`,
    );
  }
  return problems;
}

/**
 * The value of the `floe.dev/secret-sources` annotation on a workload's own metadata (of
 * {@link SecretWorkload} and of a kplus workload wired by {@link WorkloadSecrets}): a JSON object from each managed secret
 * read to its source's kind, construct path, refresh interval and rotation period.
 *
 * @returns undefined when none of the secrets is managed, so that the annotation is left out
 */
export function sourcesAnnotation(secrets: readonly IFloeSecret[]): string | undefined {
  const managed = secrets.filter((secret) => secret.source !== undefined);
  if (managed.length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(managed.map((secret) => [secret.secretName, {
    kind: secret.source!.kind,
    source: secret.source!.source,
    refreshInterval: secret.source!.refreshInterval,
    ...(secret.source!.rotationPeriod ? { rotationPeriod: secret.source!.rotationPeriod } : {}),
  }])));
}
