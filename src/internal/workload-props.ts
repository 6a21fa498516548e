import { checkFileMode, DEFAULT_RUN_AS_USER, DEFAULT_SECRET_FILE_MODE } from '../pod-spec';
import type { SecretMountedJobProps } from '../secret-mounted-job';
import type { SecretWorkloadProps, WorkloadKind } from '../secret-workload';
import {
  describeValue, optionalBoolean, optionalNumber, optionalString, optionalStringList, optionalStringMap,
  requireList, requireProps, requireRecord, requireString,
} from './runtime-props';
import { constructError, dnsLabelProblem, octal, quote, rethrowAt } from './validation';

/**
 * Checks the props every secret workload shares before the construct exists, so that bad input
 * leaves nothing behind in the tree.
 *
 * @throws naming `path`, the value and the fix
 */
export function checkWorkloadProps(path: string, props: SecretWorkloadProps, kind: WorkloadKind): void {
  requireProps(path, props, "{ image: 'ghcr.io/acme/loader:1.4.2' }");
  requireString(path, 'image', props.image, 'give the container image, e.g. "ghcr.io/acme/loader:1.4.2"');
  optionalString(path, 'name', props.name, 'use a short name such as "nightly-load"');
  optionalStringList(path, 'command', props.command, 'give the entrypoint as a list of strings, e.g. ["python", "load.py"]');
  optionalStringList(path, 'args', props.args, 'give the arguments as a list of strings, e.g. ["build"]');
  optionalStringMap(path, 'env', props.env, 'give plain env vars as a map of strings, e.g. { LOG_LEVEL: "info" }; numbers too as strings');
  for (const [field, value] of [['secretEnv', props.secretEnv], ['secretEnvFrom', props.secretEnvFrom], ['secretFiles', props.secretFiles]] as const) {
    if (value !== undefined) requireList(path, field, value, `give ${field} as a list`);
  }
  for (const [field, value] of [['fileMode', props.fileMode], ['runAsUser', props.runAsUser], ['runAsGroup', props.runAsGroup]] as const) {
    optionalNumber(path, field, value, `pass a whole number for ${field}`);
  }
  if (props.fsGroup !== null) optionalNumber(path, 'fsGroup', props.fsGroup, 'pass a whole number for fsGroup, or null for none');
  optionalBoolean(path, 'automountServiceAccountToken', props.automountServiceAccountToken, 'pass true or false');
  if (props.resources !== undefined) requireRecord(path, 'resources', props.resources, 'give Kubernetes resource requirements, e.g. { limits: { memory: "1Gi" } }');
  for (const name of Object.keys(props.env ?? {})) {
    const problem = envVarNameProblem(name);
    if (problem) throw constructError(path, `env var name ${quote(name)} ${problem}`, 'rename it, e.g. "LOG_LEVEL"');
  }
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

/**
 * Why the apiserver would refuse `name` as the name of a plain env var, or undefined. Kubernetes
 * 1.21 to 1.31 accept `[-._a-zA-Z][-._a-zA-Z0-9]*` (IsEnvVarName); 1.32+ relax it to printable ASCII
 * other than "=" by default (RelaxedEnvironmentVariableValidation), which older clusters refuse,
 * so the library keeps to the rule every supported cluster accepts.
 */
export function envVarNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
    return 'is not a name Kubernetes accepts for an env var (letters, digits, "_", "-" and ".", not starting with a digit; no spaces)';
  }
  return undefined;
}

/** Checks the props only Jobs and CronJobs have. */
export function checkJobProps(path: string, props: SecretMountedJobProps): void {
  requireProps(path, props, "{ image: 'ghcr.io/acme/loader:1.4.2' }");
  if (props.schedule !== undefined && typeof (props.schedule as { expressionString?: unknown }).expressionString !== 'string') {
    throw constructError(path, `schedule must be a cdk8s Cron, got ${describeValue(props.schedule)}`, 'use Cron.schedule({ minute: "0", hour: "2" }) or Cron.daily()');
  }
  for (const [field, value] of [['backoffLimit', props.backoffLimit], ['activeDeadlineSeconds', props.activeDeadlineSeconds], ['ttlSecondsAfterFinished', props.ttlSecondsAfterFinished]] as const) {
    optionalNumber(path, field, value, `pass a whole number for ${field}`);
  }
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
