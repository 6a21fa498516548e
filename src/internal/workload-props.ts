import { checkFileMode, DEFAULT_RUN_AS_USER, DEFAULT_SECRET_FILE_MODE } from '../pod-spec';
import type { SecretMountedJobProps } from '../secret-mounted-job';
import type { SecretWorkloadProps, WorkloadKind } from '../secret-workload';
import { constructError, dnsLabelProblem, octal, quote, rethrowAt } from './validation';

/**
 * Checks the props every secret workload shares before the construct exists, so that bad input
 * leaves nothing behind in the tree.
 *
 * @throws naming `path`, the value and the fix
 */
export function checkWorkloadProps(path: string, props: SecretWorkloadProps, kind: WorkloadKind): void {
  if (props.image.trim() === '') throw constructError(path, 'image is empty', 'give the container image, e.g. "ghcr.io/acme/loader:1.4.2"');
  if (props.name !== undefined) {
    const problem = dnsLabelProblem(props.name, kind.maxNameLength);
    if (problem) {
      throw constructError(path, `name ${quote(props.name)} ${problem}`, `use a short name such as "nightly-load" (at most ${kind.maxNameLength} characters for a ${kind.kind})`);
    }
  }
  for (const [field, value] of [['runAsUser', props.runAsUser], ['runAsGroup', props.runAsGroup], ['fsGroup', props.fsGroup]] as const) {
    if (value !== undefined && value !== null && (!Number.isInteger(value) || value < 0)) {
      throw constructError(path, `${field} ${quote(value)} is not a non-negative integer id`, `pass a numeric id for ${field}`);
    }
  }
  const mode = props.fileMode ?? DEFAULT_SECRET_FILE_MODE;
  rethrowAt(path, () => checkFileMode('fileMode', mode));
  const user = props.runAsUser ?? DEFAULT_RUN_AS_USER;
  if (props.fsGroup === null && user !== 0) {
    throw constructError(
      path,
      `fsGroup null leaves secret files owned by root:root with mode ${octal(mode)}, which user ${user} cannot read`,
      'keep the default fsGroup (the container group), or run as root (runAsUser: 0)',
    );
  }
}

/** Checks the props only Jobs and CronJobs have. */
export function checkJobProps(path: string, props: SecretMountedJobProps): void {
  for (const [field, value, min] of [
    ['backoffLimit', props.backoffLimit, 0],
    ['activeDeadlineSeconds', props.activeDeadlineSeconds, 1],
    ['ttlSecondsAfterFinished', props.ttlSecondsAfterFinished, 0],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw constructError(path, `${field} ${quote(value)} is not a ${min === 1 ? 'positive' : 'non-negative'} integer`, `pass whole seconds or counts for ${field}`);
    }
  }
}
