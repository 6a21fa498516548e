import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { FloeDomain } from '../floe-domain';
import { FloeServiceAccount, ISecretReader } from '../floe-service-account';
import { SECRET_READ_ROLE_SUFFIX } from '../secret-read-role';
import { describeValue, isRecord } from './runtime-props';
import { constructError, dnsSubdomainProblem, quote } from './validation';

/** Construct id prefix, under the domain, of the reader that holds a cdk8s-plus ServiceAccount's name-scoped Role. */
const READER_ID = 'FloeSecretReader';

/**
 * The container {@link WorkloadSecrets} wires by default: the workload's first.
 *
 * @throws when the workload has no container yet
 */
export function defaultContainer(path: string, workload: kplus.AbstractPod): kplus.Container {
  const [first] = workload.containers;
  if (first === undefined) {
    throw constructError(path, `workload ${workload.node.path} has no container yet`, 'add the container to the workload first (containers or addContainer()), or pass container');
  }
  return first;
}

/**
 * Checks that `container` is a container or init container of `workload`.
 *
 * @throws naming the container and the workload
 */
export function checkContainerOf(path: string, workload: kplus.AbstractPod, container: kplus.Container): void {
  if (!workload.containers.includes(container) && !workload.initContainers.includes(container)) {
    const name = isRecord(container) && typeof container.name === 'string' ? quote(container.name) : describeValue(container);
    throw constructError(
      path,
      `container ${name} is not a container or init container of workload ${workload.node.path}`,
      'pass a container of the workload, e.g. workload.containers[0] or the value addContainer() returned',
    );
  }
}

/**
 * The secret reader for the workload's ServiceAccount: the ServiceAccount itself when it is a
 * {@link FloeServiceAccount}, otherwise one reader per ServiceAccount name, kept in the domain.
 * A workload without one is given a {@link FloeServiceAccount} of its own first (see
 * {@link giveServiceAccount}).
 */
export function readerOf(path: string, workload: kplus.AbstractPod, domain: FloeDomain): ISecretReader {
  const sa = workload.serviceAccount ?? giveServiceAccount(workload);
  if (sa.name === 'default') {
    throw constructError(
      path,
      `workload ${workload.node.path} runs as the namespace's "default" ServiceAccount, which every pod without one shares, so its Role would grant them all`,
      `leave serviceAccount out to have one created for the workload, or pass its own, e.g. serviceAccount: new FloeServiceAccount(domain, '${workload.node.id}Sa')`,
    );
  }
  const saDomain = sa.node.scopes.slice().reverse().find(FloeDomain.isFloeDomain);
  if (saDomain !== undefined && saDomain !== domain) {
    throw constructError(
      path,
      `serviceAccount ${sa.node.path} is in domain ${quote(saDomain.domainName)}, but workload ${workload.node.path} is in domain ${quote(domain.domainName)}`,
      'create the ServiceAccount in the workload\'s domain: a pod can only run as a ServiceAccount of its own namespace',
    );
  }
  if (isSecretReader(sa)) return sa;
  const id = `${READER_ID}-${sa.name}`;
  return (domain.node.tryFindChild(id) as ISecretReader | undefined) ?? FloeServiceAccount.fromServiceAccountName(domain, id, sa.name);
}

/**
 * Creates a {@link FloeServiceAccount} for a workload that has none (construct id
 * `FloeServiceAccount` under the workload, named like the workload, as {@link SecretMountedJob}
 * names its own; from the construct path when that name is `default`, is taken by another
 * ServiceAccount of the domain, or leaves no room for the Role's suffix) and makes the workload run as
 * it. cdk8s-plus takes `serviceAccount` only at construction and reads the field each time it
 * renders the pod spec or a role binding subject, so the field is set in place.
 */
function giveServiceAccount(workload: kplus.AbstractPod): FloeServiceAccount {
  const name = workload.name;
  const usable = name !== 'default' && dnsSubdomainProblem(name, 253 - SECRET_READ_ROLE_SUFFIX.length) === undefined
    && !FloeDomain.of(workload).node.findAll().some((c) => c instanceof ApiObject && c.kind === 'ServiceAccount' && c.name === name);
  const sa = new FloeServiceAccount(workload, 'FloeServiceAccount', usable ? { serviceAccountName: name } : {});
  (workload as { serviceAccount?: kplus.IServiceAccount }).serviceAccount = sa;
  return sa;
}

/**
 * Where a rendered Job or CronJob (the kinds that run to completion) holds its run deadline, in
 * seconds. Read from the rendered object: kplus.CronJob keeps its job properties private, and an
 * escape hatch (`ApiObject.of(job).addJsonPatch`) may set it.
 */
const RUN_DEADLINES: { readonly [kind: string]: (rendered: any) => unknown } = {
  Job: (rendered) => rendered.spec?.activeDeadlineSeconds,
  CronJob: (rendered) => rendered.spec?.jobTemplate?.spec?.activeDeadlineSeconds,
};

/** Whether the workload runs to completion (a Job or CronJob), so that its runs need a deadline. */
export function runsToCompletion(workload: kplus.AbstractPod): boolean {
  return hasOwn(RUN_DEADLINES, workload.kind);
}

/**
 * The run deadline, in seconds, that a Job or CronJob renders: undefined for none (or another
 * kind), null when the workload fails to render, which the synth reports itself. The rendering has
 * no side effect (cdk8s-plus builds the spec from the workload's fields each time).
 */
export function renderedRunDeadline(workload: kplus.AbstractPod): number | undefined | null {
  if (!runsToCompletion(workload)) return undefined;
  let rendered: unknown;
  try {
    rendered = ApiObject.of(workload).toJson();
  } catch {
    return null;
  }
  const seconds = RUN_DEADLINES[workload.kind](rendered);
  return typeof seconds === 'number' ? seconds : undefined;
}

/** Whether `record` has `key` as its own property (not one of Object's, such as `constructor`). */
export function hasOwn(record: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

function isSecretReader(value: IConstruct): value is ISecretReader & IConstruct {
  const reader = value as Partial<ISecretReader>;
  return typeof reader.secretReadRole === 'function' && isRecord(reader.subject) && isRecord(reader.domain);
}
