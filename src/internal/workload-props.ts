import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { checkFileMode, checkMountPath, DEFAULT_RUN_AS_USER, DEFAULT_SECRET_FILE_MODE, isNormalizedAbsoluteDir } from '../pod-spec';
import type { SecretMountedJobProps } from '../secret-mounted-job';
import type { SecretMountedStatefulSetProps } from '../secret-mounted-statefulset';
import type { SecretWorkloadProps, WorkloadKind } from '../secret-workload-props';
import type { LongRunningSecretWorkloadProps } from './long-running';
import {
  describeValue, isRecord, optionalBoolean, optionalNumber, optionalOneOf, optionalString, optionalStringList, optionalStringMap,
  requireList, requireProps, requireRecord, requireString,
} from './runtime-props';
import { constructError, dnsLabelProblem, dnsSubdomainProblem, octal, quote, rethrowAt } from './validation';
import { labelKeyProblem, labelValueProblem, parseQuantity, quantityText, toResourceRequirements } from './workload-spec';

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
  if (props.resources !== undefined) {
    requireRecord(path, 'resources', props.resources, 'give resource requirements, e.g. { limits: { memory: k8s.Quantity.fromString("1Gi") } }');
    checkResources(path, toResourceRequirements(props.resources));
  }
  checkPodPlacementProps(path, props);
  checkMetadataProps(path, props);
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

/** Checks requests and limits: known fields, quantities the apiserver accepts, every request at most its limit. */
function checkResources(path: string, resources: k8s.ResourceRequirements): void {
  const fix = 'give requests and limits as quantities, e.g. { requests: { cpu: k8s.Quantity.fromString("250m") }, limits: { memory: k8s.Quantity.fromString("1Gi") } }';
  for (const field of Object.keys(resources)) {
    if (!['requests', 'limits', 'claims'].includes(field)) throw constructError(path, `resources has unknown field ${quote(field)}`, fix);
  }
  const amounts: { [which: string]: { [name: string]: number } } = {};
  for (const which of ['requests', 'limits'] as const) {
    const given = resources[which];
    if (given === undefined) continue;
    requireRecord(path, `resources.${which}`, given, fix);
    amounts[which] = {};
    for (const [name, quantity] of Object.entries(given)) {
      const amount = parseQuantity(quantity);
      if (amount === undefined) throw constructError(path, `resources.${which}.${name} ${quote(quantityText(quantity))} is not a Kubernetes quantity`, fix);
      amounts[which][name] = amount;
    }
  }
  for (const [name, request] of Object.entries(amounts.requests ?? {})) {
    const limit = amounts.limits?.[name];
    if (limit !== undefined && request > limit) {
      throw constructError(
        path,
        `resources request ${name} ${quote(quantityText(resources.requests![name]))} is more than its limit ${quote(quantityText(resources.limits![name]))}, which the apiserver refuses`,
        `lower the request or raise the limit of ${name}`,
      );
    }
  }
}

/** Checks /tmp, the working directory, volumes, image pull secrets and node placement. */
function checkPodPlacementProps(path: string, props: SecretWorkloadProps): void {
  optionalBoolean(path, 'writableTmp', props.writableTmp, 'pass true or false');
  optionalString(path, 'workingDir', props.workingDir, 'give an absolute directory the image leaves empty, e.g. "/work"');
  if (props.workingDir !== undefined) {
    if (!isNormalizedAbsoluteDir(props.workingDir)) {
      throw constructError(path, `workingDir ${quote(props.workingDir)} is not a normalized absolute directory other than "/"`, 'give an absolute directory the image leaves empty, e.g. "/work"');
    }
    rethrowAt(path, () => checkMountPath('workingDir', props.workingDir!)); // the ServiceAccount token's directories
  }
  const volumeFix = 'give each entry as { volume: { name: "cache", emptyDir: {} }, mountPath: "/cache" }';
  if (props.volumes !== undefined) {
    requireList(path, 'volumes', props.volumes, volumeFix);
    props.volumes.forEach((entry, index) => {
      requireRecord(path, `volumes[${index}]`, entry, volumeFix);
      requireRecord(path, `volumes[${index}].volume`, entry.volume, volumeFix);
      requireString(path, `volumes[${index}].volume.name`, entry.volume.name, volumeFix);
      requireString(path, `volumes[${index}].mountPath`, entry.mountPath, volumeFix);
      optionalBoolean(path, `volumes[${index}].readOnly`, entry.readOnly, 'pass true or false');
      const problem = dnsLabelProblem(entry.volume.name, 63);
      if (problem) throw constructError(path, `volume name ${quote(entry.volume.name)} ${problem}`, 'name the volume like "cache"');
      rethrowAt(path, () => checkMountPath(`volumes[${index}].mountPath`, entry.mountPath));
    });
  }
  optionalStringList(path, 'imagePullSecrets', props.imagePullSecrets, 'list the names of the pull Secrets, e.g. ["ghcr-pull"]');
  for (const name of props.imagePullSecrets ?? []) {
    const problem = dnsSubdomainProblem(name);
    if (problem) throw constructError(path, `imagePullSecrets entry ${quote(name)} ${problem}`, 'give the name of a Secret in the workload\'s namespace, e.g. "ghcr-pull"');
  }
  checkLabels(path, 'nodeSelector', props.nodeSelector, false, 'give node labels, e.g. { "kubernetes.io/arch": "amd64" }');
  if (props.tolerations !== undefined) {
    requireList(path, 'tolerations', props.tolerations, 'give a list of tolerations').forEach((toleration, index) =>
      requireRecord(path, `tolerations[${index}]`, toleration, 'give each toleration as { key, operator, value, effect }'));
  }
  if (props.affinity !== undefined) requireRecord(path, 'affinity', props.affinity, 'give a Kubernetes affinity, e.g. { nodeAffinity: { ... } }');
}

/** Checks labels, annotations and partOf. */
function checkMetadataProps(path: string, props: SecretWorkloadProps): void {
  optionalString(path, 'partOf', props.partOf, 'name the application the workload belongs to, e.g. "sales-pipeline"');
  if (props.partOf !== undefined && labelValueProblem(props.partOf)) {
    throw constructError(path, `partOf ${quote(props.partOf)} ${labelValueProblem(props.partOf)}`, 'name the application like "sales-pipeline"');
  }
  checkLabels(path, 'labels', props.labels, true, 'give labels as a map of strings, e.g. { team: "etl" }');
  checkLabels(path, 'podLabels', props.podLabels, true, 'give labels as a map of strings, e.g. { team: "etl" }');
  for (const field of ['annotations', 'podAnnotations'] as const) {
    const fix = 'give annotations as a map of strings, e.g. { "example.com/owner": "etl" }';
    optionalStringMap(path, field, props[field], fix);
    for (const key of Object.keys(props[field] ?? {})) checkMetadataKey(path, field, key, fix);
  }
}

function checkLabels(path: string, field: string, labels: { [key: string]: string } | undefined, reserveFloe: boolean, fix: string): void {
  optionalStringMap(path, field, labels, fix);
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (reserveFloe) checkMetadataKey(path, field, key, fix);
    else if (labelKeyProblem(key)) throw constructError(path, `${field} key ${quote(key)} ${labelKeyProblem(key)}`, fix);
    const problem = labelValueProblem(value);
    if (problem) throw constructError(path, `${field} value ${quote(value)} of ${quote(key)} ${problem}`, fix);
  }
}

function checkMetadataKey(path: string, field: string, key: string, fix: string): void {
  const problem = labelKeyProblem(key);
  if (problem) throw constructError(path, `${field} key ${quote(key)} ${problem}`, fix);
  if (key.startsWith('floe.dev/')) {
    throw constructError(path, `${field} key ${quote(key)} is reserved: the library sets floe.dev/ keys itself`, 'use a key of your own prefix, e.g. "example.com/team"');
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
  const ttl = props.ttlSecondsAfterFinished === null ? undefined : props.ttlSecondsAfterFinished;
  const numbers = [
    ['backoffLimit', props.backoffLimit, 0],
    ['activeDeadlineSeconds', props.activeDeadlineSeconds, 1],
    ['ttlSecondsAfterFinished', ttl, 0],
    ['successfulJobsHistoryLimit', props.successfulJobsHistoryLimit, 0],
    ['failedJobsHistoryLimit', props.failedJobsHistoryLimit, 0],
    ['startingDeadlineSeconds', props.startingDeadlineSeconds, 10],
  ] as const;
  for (const [field, value] of numbers) {
    optionalNumber(path, field, value, field === 'ttlSecondsAfterFinished' ? 'pass whole seconds, or null to keep finished Jobs' : `pass a whole number for ${field}`);
  }
  for (const [field, value, min] of numbers) {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `a whole number of at least ${min}`;
      const why = min === 10 ? ' (the CronJob controller checks schedules every 10 seconds, so a shorter deadline can skip every run)' : '';
      throw constructError(path, `${field} ${quote(value)} is not ${what}${why}`, `pass whole seconds or counts for ${field}`);
    }
  }
  const policies = Object.values(kplus.ConcurrencyPolicy);
  optionalOneOf(path, 'concurrencyPolicy', props.concurrencyPolicy, policies, 'use kplus.ConcurrencyPolicy.FORBID, ALLOW or REPLACE');
  if (props.schedule === undefined) {
    for (const field of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'concurrencyPolicy', 'startingDeadlineSeconds'] as const) {
      if (props[field] !== undefined) {
        throw constructError(path, `${field} applies to a CronJob only, and this Job has no schedule`, `add a schedule, or remove ${field}`);
      }
    }
  }
}

/**
 * Checks a replica count: a non-negative integer, or undefined for the default.
 *
 * @throws naming `path`, the value and the fix
 */
export function checkReplicas(path: string, replicas: unknown): void {
  optionalNumber(path, 'replicas', replicas, 'pass a whole number of pods');
  if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
    throw constructError(path, `replicas ${quote(replicas as number)} is not a non-negative integer`, 'pass a whole number of pods');
  }
}

/**
 * Checks the props the long-running kinds (Deployment, StatefulSet, DaemonSet) share: autoReload,
 * ports and probes.
 *
 * @throws naming `path`, the value and the fix
 */
export function checkLongRunningProps(path: string, props: LongRunningSecretWorkloadProps): void {
  requireProps(path, props, "{ image: 'ghcr.io/acme/api:2.0.1' }");
  optionalBoolean(path, 'autoReload', props.autoReload, 'pass true or false');
  const portFix = 'give each port as { containerPort: 8080, name: "http" }';
  const seen = new Map<string, number>();
  if (props.ports !== undefined) {
    requireList(path, 'ports', props.ports, portFix);
    props.ports.forEach((port, index) => {
      requireRecord(path, `ports[${index}]`, port, portFix);
      if (typeof port.containerPort !== 'number') {
        throw constructError(path, `ports[${index}].containerPort must be a number, got ${describeValue(port.containerPort)}`, portFix);
      }
      optionalString(path, `ports[${index}].name`, port.name, portFix);
      if (!Number.isInteger(port.containerPort) || port.containerPort < 1 || port.containerPort > 65535) {
        throw constructError(path, `port ${quote(port.containerPort)} is not a port number from 1 to 65535`, portFix);
      }
      if (port.hostPort !== undefined) {
        throw constructError(path, `port ${port.containerPort} sets hostPort ${quote(port.hostPort)}, which Pod Security "baseline" and "restricted" refuse`, 'leave hostPort out and reach the pod through a Service');
      }
      if (port.name !== undefined && !/^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/.test(port.name)) {
        throw constructError(path, `port name ${quote(port.name)} is not a port name (1 to 15 lowercase letters, digits and single "-", with at least one letter)`, 'name the port like "http" or "metrics"');
      }
      for (const key of [port.name ? `name ${port.name}` : undefined, `${port.containerPort}/${port.protocol ?? 'TCP'}`]) {
        if (key === undefined) continue;
        if (seen.has(key)) throw constructError(path, `ports[${seen.get(key)}] and ports[${index}] have the same ${key.startsWith('name ') ? key : `port ${key}`}`, 'list each port once');
        seen.set(key, index);
      }
    });
  }
  for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    if (props[field] === undefined) continue;
    requireRecord(path, field, props[field], 'give a Kubernetes probe, e.g. { httpGet: { path: "/healthz", port: k8s.IntOrString.fromString("http") } }');
    const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((handler) => isRecord((props[field] as { [key: string]: unknown })[handler]));
    if (handlers.length !== 1) {
      throw constructError(path, `${field} has ${handlers.length === 0 ? 'no handler' : `several handlers (${handlers.join(', ')})`}`, 'give exactly one of exec, httpGet, tcpSocket or grpc');
    }
  }
}

/** A DNS-1035 label of at most 63 characters: the rule for Service names. */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Checks the props only StatefulSets have. Ports and probes are checked by
 * {@link checkLongRunningProps}; here, only what the headless Service the StatefulSet makes needs of
 * them (a name for each of several ports).
 *
 * @throws naming `path`, the value and the fix
 */
export function checkStatefulSetProps(path: string, props: SecretMountedStatefulSetProps): void {
  requireProps(path, props, "{ image: 'ghcr.io/acme/ledger:1.0.0' }");
  checkReplicas(path, props.replicas);
  const serviceFix = 'give the name of a headless Service in the workload\'s namespace, e.g. "ledger", or leave serviceName out to have one made';
  optionalString(path, 'serviceName', props.serviceName, serviceFix);
  if (props.serviceName !== undefined && !(props.serviceName.length <= 63 && DNS1035_LABEL.test(props.serviceName))) {
    throw constructError(
      path,
      `serviceName ${quote(props.serviceName)} is not a Service name (a DNS-1035 label: at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit)`,
      serviceFix,
    );
  }
  optionalOneOf(path, 'podManagementPolicy', props.podManagementPolicy, Object.values(kplus.PodManagementPolicy), 'use kplus.PodManagementPolicy.ORDERED_READY or PARALLEL');
  if (props.serviceName !== undefined) return;
  // The StatefulSet makes its headless Service, named like it: a Service name is a DNS-1035 label.
  if (typeof props.name === 'string' && /^[0-9]/.test(props.name)) {
    throw constructError(
      path,
      `name ${quote(props.name)} starts with a digit, but the headless Service named like the StatefulSet needs a name starting with a letter (a DNS-1035 label)`,
      'start the name with a letter, or pass serviceName to use a Service of your own',
    );
  }
  // The apiserver requires a name for each port of a Service with several ports.
  if (Array.isArray(props.ports) && props.ports.length > 1) {
    const unnamed = props.ports.findIndex((port) => isRecord(port) && port.name === undefined);
    if (unnamed >= 0) {
      throw constructError(
        path,
        `ports[${unnamed}] has no name, which the headless Service needs for each of several ports`,
        'name every port, e.g. "http" and "metrics", or pass serviceName to use a Service of your own',
      );
    }
  }
}
