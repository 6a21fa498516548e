import { Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { FloeDomain } from './floe-domain';
import { IFloeSecret } from './floe-secret';
import { ISecretReader } from './floe-service-account';
import { checkContainerOf, defaultContainer, hasOwn, readerOf, renderedRunDeadline, runsToCompletion } from './internal/kplus-workload';
import { describeValue, isRecord, optionalBoolean, optionalNumber, requireProps } from './internal/runtime-props';
import { effectiveFileMode, fileModeDescription, SecretReads } from './internal/secret-reads';
import { RunDeadlineSetting, rotationProblems, sourcesAnnotation } from './internal/secret-sources';
import { childPath, constructError, octal, quote, rethrowAt } from './internal/validation';
import { checkFileMode, DEFAULT_SECRET_FILE_MODE, overlaps, secretVolumeName } from './pod-spec';
import { INFISICAL_AUTO_RELOAD_ANNOTATION } from './secret-mounted-job';
import { SecretReference } from './secret-reference';
import { SECRET_SOURCES_ANNOTATION } from './secret-source';
import { SECRET_FILE_MODE_ANNOTATION } from './secret-workload';

/** Workload kinds that run until replaced: the Infisical operator restarts them when a Secret changes. */
const LONG_RUNNING_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** Workload kinds that run to completion, or bare Pods: no operator restarts them. */
const RUN_ONCE_KINDS: readonly string[] = ['Job', 'CronJob', 'Pod'];

/** The cdk8s-plus prop that sets a Job's or CronJob's run deadline, as the rotation error names it. */
const ACTIVE_DEADLINE: RunDeadlineSetting = { name: 'activeDeadline', format: (seconds) => `Duration.seconds(${seconds})` };

/** The WorkloadSecrets of each workload: one per workload. */
const BY_WORKLOAD = new WeakMap<kplus.AbstractPod, WorkloadSecrets>();

/** Properties of {@link WorkloadSecrets}. */
export interface WorkloadSecretsProps {
  /**
   * The cdk8s-plus workload: a `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob` or
   * `Pod` of a {@link FloeDomain}. Its `serviceAccount` (a {@link FloeServiceAccount} or a
   * `kplus.ServiceAccount` of the domain) is the subject of the Role; the namespace's `default`
   * ServiceAccount is refused. A workload without one is given a {@link FloeServiceAccount} named
   * like the workload (construct id `FloeServiceAccount` under it), which its pods then run as.
   */
  readonly workload: kplus.AbstractPod;

  /**
   * The container that the methods wire when they are not given one; a container or init
   * container of `workload`.
   *
   * @default - the workload's first container (the first of its `containers` prop); pass
   * `container` to the methods to wire a sidecar or init container
   */
  readonly container?: kplus.Container;

  /**
   * Mode of the mounted secret files as written in the volume. With the workload's `fsGroup`
   * the kubelet adds group read, so the mode seen in the container is `fileMode | 0o440`. Modes
   * that give others any access are refused.
   *
   * @default 0o400
   */
  readonly fileMode?: number;

  /**
   * Whether the workload carries `secrets.infisical.com/auto-reload: "true"` on its own
   * metadata, so that the Infisical operator restarts it when a Secret it reads changes. Only
   * for Deployments, StatefulSets and DaemonSets: `true` on a Job, CronJob or Pod is an error,
   * since the operator ignores it there.
   *
   * @default - true for a Deployment, StatefulSet or DaemonSet as soon as it reads a Secret whose
   * source restarts workloads (Infisical); never for a Job, CronJob or Pod
   */
  readonly autoReload?: boolean;
}

/** Options of {@link WorkloadSecrets.addSecretEnv}. */
export interface WorkloadSecretEnvOptions {
  /**
   * The env var name.
   *
   * @default - the reference's {@link SecretReference.envVarName}
   */
  readonly name?: string;

  /**
   * The container to set it in.
   *
   * @default - the container given to {@link WorkloadSecrets}
   */
  readonly container?: kplus.Container;
}

/** Options of {@link WorkloadSecrets.addSecretEnvFrom}. */
export interface WorkloadSecretEnvFromOptions {
  /**
   * The container to set the env vars in.
   *
   * @default - the container given to {@link WorkloadSecrets}
   */
  readonly container?: kplus.Container;
}

/** Options of {@link WorkloadSecrets.mountSecret}. */
export interface WorkloadSecretMountOptions {
  /**
   * The keys to mount; each becomes the file `<mountPath>/<key>`.
   *
   * @default - every key the Secret holds when the pod starts
   */
  readonly keys?: string[];

  /**
   * The directory the files appear in.
   *
   * @default `/run/secrets/<secret-name>`
   */
  readonly mountPath?: string;

  /**
   * The container to mount the files in.
   *
   * @default - the container given to {@link WorkloadSecrets}
   */
  readonly container?: kplus.Container;
}

/** What this construct added to one container, to check it against the container at synth. */
interface ContainerWiring {
  readonly container: kplus.Container;
  /** Env vars set through secretKeyRef: name to the value added and what it reads. */
  readonly env: Map<string, { readonly value: kplus.EnvValue; readonly source: string }>;
  /** Env vars set through envFrom: key to what sets it. */
  readonly envFrom: Map<string, string>;
  /** Secret volumes mounted: the volume and its mount path. */
  readonly volumes: Map<kplus.Volume, string>;
}

/**
 * Adds floe secrets to a cdk8s-plus workload the team already built, with the same checks and
 * RBAC as {@link SecretMountedJob}: single keys as env vars (`secretKeyRef`), whole secrets as
 * `envFrom`, secrets as read-only files, and a Role that lets the workload's ServiceAccount `get`
 * exactly those Secrets.
 *
 * ```ts
 * const api = new kplus.Deployment(sales, 'Api', {
 *   serviceAccount: new FloeServiceAccount(sales, 'ApiSa'),
 *   securityContext: { fsGroup: 26000 },
 *   containers: [{ image: 'ghcr.io/acme/api:2.0.1', portNumber: 8080 }],
 * });
 * new WorkloadSecrets(sales, 'ApiSecrets', { workload: api })
 *   .addSecretEnv(SecretReference.fromSecret(db, 'password'))
 *   .mountSecret(gsa);
 * ```
 *
 * Everything is written into the cdk8s-plus objects themselves (`container.env.addVariable`,
 * `container.env.copyFrom`, `container.mount`), so the workload renders as cdk8s-plus renders
 * it. Checks that depend only on the call fail at once; those that depend on what the workload
 * looks like in the end (an env var or a mount added to the container afterwards) fail at synth.
 *
 * Checks: the key is declared; the secret is of the workload's domain; every env var name is set
 * once in the container (its other env vars and the declared keys of secrets read through this
 * construct's `envFrom`; keys of other envFrom sources are unknown and not checked); no secret
 * mount overlaps another mount of the container; the files are readable by the container's user
 * (an `fsGroup` on the workload, unless the container runs as root); the operator's reload
 * annotation only on Deployments, StatefulSets and DaemonSets; a Job or CronJob that reads a
 * secret whose source declares a `rotationPeriod` has an `activeDeadline` of at most that period,
 * so that no run outlives the credential (checked at synth, on the rendered object).
 *
 * For reviewers, the workload's own metadata carries `floe.dev/secret-sources`, as on
 * {@link SecretMountedJob}: the source, kind, refresh interval and rotation period of each managed
 * secret it reads; it is left out when the workload reads only Secrets created outside the app. It
 * is never in the pod template: a Job's template is immutable, and a new refresh interval must not
 * roll a Deployment.
 *
 * One per workload: {@link WorkloadSecrets.of} returns it.
 */
export class WorkloadSecrets extends Construct {
  /**
   * The workload's WorkloadSecrets, created under the workload (construct id `FloeSecrets`,
   * default props) if it has none yet.
   */
  public static of(workload: kplus.AbstractPod): WorkloadSecrets {
    return BY_WORKLOAD.get(workload) ?? new WorkloadSecrets(workload, 'FloeSecrets', { workload });
  }

  /** The cdk8s-plus workload. */
  public readonly workload: kplus.AbstractPod;
  /** The container the methods wire when they are not given one. */
  public readonly container: kplus.Container;
  /** The domain of the workload. */
  public readonly domain: FloeDomain;
  /**
   * The workload's ServiceAccount as a secret reader: the subject of the name-scoped Role (the one
   * created for the workload when it had none).
   */
  public readonly serviceAccount: ISecretReader;
  /** The mode of secret files as written in the volume. */
  public readonly fileMode: number;

  private readonly autoReloadProp?: boolean;
  private reloads = false;
  private readonly wirings = new Map<kplus.Container, ContainerWiring>();
  private readonly reads: SecretReads;
  private readonly volumeNames = new Set<string>();

  public constructor(scope: Construct, id: string, props: WorkloadSecretsProps) {
    const path = childPath(scope, id);
    requireProps(path, props, '{ workload: deployment }');
    const workload = props.workload as Partial<kplus.AbstractPod> | undefined;
    if (!isRecord(workload) || !Array.isArray(workload.containers) || !isRecord(workload.securityContext) || typeof workload.kind !== 'string') {
      throw constructError(path, `workload must be a cdk8s-plus workload, got ${describeValue(props.workload)}`, 'pass a kplus.Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod');
    }
    const kind = props.workload.kind;
    if (!LONG_RUNNING_KINDS.includes(kind) && !RUN_ONCE_KINDS.includes(kind)) {
      throw constructError(path, `workload ${props.workload.node.path} is a ${kind}`, 'pass a kplus.Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod');
    }
    const previous = BY_WORKLOAD.get(props.workload);
    if (previous) {
      throw constructError(path, `workload ${props.workload.node.path} already has its secrets wired by ${previous.node.path}`, 'use that one (WorkloadSecrets.of(workload)); it wires any of the workload\'s containers');
    }
    optionalNumber(path, 'fileMode', props.fileMode, 'pass an octal literal such as 0o400');
    optionalBoolean(path, 'autoReload', props.autoReload, 'pass true or false');
    const fileMode = props.fileMode ?? DEFAULT_SECRET_FILE_MODE;
    rethrowAt(path, () => checkFileMode('fileMode', fileMode));
    if (props.autoReload === true && RUN_ONCE_KINDS.includes(kind)) {
      throw constructError(
        path,
        `autoReload is true, but the operator ignores ${INFISICAL_AUTO_RELOAD_ANNOTATION} on a ${kind}`,
        'leave it out: the next pod reads the current Secret and mounted files refresh in place; use a Deployment, StatefulSet or DaemonSet for a workload that must restart',
      );
    }
    const container = props.container ?? defaultContainer(path, props.workload);
    checkContainerOf(path, props.workload, container);
    const domain = FloeDomain.of(props.workload);
    const serviceAccount = readerOf(path, props.workload, domain);

    super(scope, id);
    BY_WORKLOAD.set(props.workload, this);
    this.workload = props.workload;
    this.container = container;
    this.domain = domain;
    this.serviceAccount = serviceAccount;
    this.fileMode = fileMode;
    this.autoReloadProp = props.autoReload;
    this.reads = new SecretReads(this, props.workload, domain, (secret) => this.onSecretUsed(secret));
    if (props.autoReload === true) this.enableAutoReload();
    this.workload.metadata.addAnnotation(SECRET_SOURCES_ANNOTATION, Lazy.any({ produce: () => sourcesAnnotation(this.secretsRead) }));
    this.node.addValidation({ validate: () => this.validateWorkload() });
  }

  /**
   * Injects one key as an env var through `secretKeyRef` (`container.env.addVariable`), and
   * grants the workload's ServiceAccount `get` on its Secret.
   *
   * @throws when the key is not declared, the secret is of another domain, the name is not a C
   * identifier, or the container already sets that env var
   */
  public addSecretEnv(reference: SecretReference, options: WorkloadSecretEnvOptions = {}): this {
    const { secret, name } = this.reads.checkSecretEnv(reference, options.name);
    const wiring = this.wiringOf(options.container);
    const source = `secret key ${reference}`;
    this.checkEnvFree(wiring, name, source);
    const value = reference.toEnvValue();
    wiring.container.env.addVariable(name, value);
    wiring.env.set(name, { value, source });
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /**
   * Injects every key of a secret as an env var of the same name through `envFrom`
   * (`container.env.copyFrom`), and grants the workload's ServiceAccount `get` on it.
   *
   * @throws when a key is not a valid env var name (Kubernetes would silently skip it) or is
   * already an env var of the container
   */
  public addSecretEnvFrom(secret: IFloeSecret, options: WorkloadSecretEnvFromOptions = {}): this {
    this.reads.checkEnvFrom(secret);
    const wiring = this.wiringOf(options.container);
    const source = `envFrom secret ${quote(secret.secretName)}`;
    for (const key of secret.keys) this.checkEnvFree(wiring, key, source);
    wiring.container.env.copyFrom(kplus.Env.fromSecret(secret));
    for (const key of secret.keys) wiring.envFrom.set(key, source);
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /**
   * Mounts a secret read-only as files, `<mountPath>/<key>` for each key
   * (`kplus.Volume.fromSecret` and `container.mount`), and grants the workload's ServiceAccount
   * `get` on it. The directory is mounted whole (never `subPath`), so the kubelet refreshes the
   * files while the pod runs.
   *
   * @throws when a key is not declared, the mount path overlaps another mount of the container,
   * or the container's user could not read the files
   */
  public mountSecret(secret: IFloeSecret, options: WorkloadSecretMountOptions = {}): this {
    const { keys, mountPath } = this.reads.checkMount(secret, options);
    const wiring = this.wiringOf(options.container);
    const clash = wiring.container.mounts.find((mount) => overlaps(mount.path, mountPath));
    if (clash) {
      throw constructError(this, `mount path ${quote(mountPath)} overlaps mount ${quote(clash.path)} of container ${quote(wiring.container.name)}`, 'give each mount its own directory');
    }
    this.checkReadable(wiring.container);

    const volumeName = this.freeVolumeName(secretVolumeName(secret.secretName));
    const items = keys && Object.fromEntries([...keys].sort().map((key) => [key, { path: key }]));
    const volume = kplus.Volume.fromSecret(this, `Volume-${volumeName}`, secret, { name: volumeName, defaultMode: this.fileMode, items });
    wiring.container.mount(mountPath, volume, { readOnly: true });
    wiring.volumes.set(volume, mountPath);
    this.volumeNames.add(volumeName);
    this.workload.metadata.addAnnotation(SECRET_FILE_MODE_ANNOTATION, this.fileModeDescription);
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /** The workload's fsGroup: the group that owns the mounted secret files, or undefined for none. */
  public get fsGroup(): number | undefined {
    return this.workload.securityContext.fsGroup;
  }

  /** The mode of secret files as the container sees them (after the kubelet's fsGroup adjustment). */
  public get effectiveFileMode(): number {
    return effectiveFileMode(this.fileMode, this.fsGroup);
  }

  /**
   * The mode and ownership of mounted secret files as the containers see them, e.g.
   * `0440 root:26000`; written on the workload's own metadata as `floe.dev/secret-file-mode` once
   * a secret is mounted.
   */
  public get fileModeDescription(): string {
    return fileModeDescription(this.fileMode, this.fsGroup);
  }

  /** Whether the workload carries the operator's auto-reload annotation. */
  public get autoReload(): boolean {
    return this.reloads;
  }

  /** The names of the Secrets this workload uses and may `get`, sorted (a copy). */
  public get secretNames(): string[] {
    return this.reads.secretNames;
  }

  /** The secrets this workload uses, by name order (a copy). */
  public get secretsRead(): IFloeSecret[] {
    return this.reads.secretsRead;
  }

  private wiringOf(container: kplus.Container = this.container): ContainerWiring {
    let wiring = this.wirings.get(container);
    if (!wiring) {
      checkContainerOf(this.node.path, this.workload, container);
      wiring = { container, env: new Map(), envFrom: new Map(), volumes: new Map() };
      this.wirings.set(container, wiring);
    }
    return wiring;
  }


  /** Turns on the operator's auto-reload for a long-running workload reading a secret its source restarts workloads for. */
  private onSecretUsed(secret: IFloeSecret): void {
    if (secret.source?.restartsWorkloads && this.autoReloadProp !== false && LONG_RUNNING_KINDS.includes(this.workload.kind)) {
      this.enableAutoReload();
    }
  }

  private enableAutoReload(): void {
    if (this.reloads) return;
    this.reloads = true;
    this.workload.metadata.addAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true');
  }

  /** Refuses `name` when this construct or the container already sets it. Never shows a value. */
  private checkEnvFree(wiring: ContainerWiring, name: string, source: string): void {
    const previous = wiring.env.get(name)?.source ?? wiring.envFrom.get(name)
      ?? (hasOwn(wiring.container.env.variables, name) ? `env var ${quote(name)} of container ${quote(wiring.container.name)}` : undefined);
    if (previous !== undefined) {
      throw constructError(this, `env var ${quote(name)} is set by both ${previous} and ${source}`, 'give one of them another env var name');
    }
  }

  private checkReadable(container: kplus.Container): void {
    if (this.fsGroup !== undefined) return;
    const user = container.securityContext.user ?? this.workload.securityContext.user;
    if (user === 0) return;
    throw constructError(
      this,
      `workload ${this.workload.node.path} sets no fsGroup, which leaves secret files owned by root:root with mode ${octal(this.fileMode)}, ` +
        `which container ${quote(container.name)} (${user === undefined ? 'the image\'s user' : `user ${user}`}) cannot read`,
      'give the workload securityContext: { fsGroup: <the container\'s group> }, e.g. 26000, or run the container as root (user: 0; not recommended)',
    );
  }

  private freeVolumeName(wanted: string): string {
    const taken = new Set([
      ...this.volumeNames,
      ...this.workload.volumes.map((volume) => volume.name),
      ...[...this.workload.containers, ...this.workload.initContainers].flatMap((c) => c.mounts.map((mount) => mount.volume.name)),
    ]);
    let name = wanted;
    for (let n = 1; taken.has(name); n++) name = `${wanted.slice(0, 58)}-${n}`;
    return name;
  }

  /** Synth-time checks against the workload as it is in the end. */
  private validateWorkload(): string[] {
    const errors: string[] = [];
    const at = `${this.node.path}:`;
    for (const wiring of this.wirings.values()) {
      const container = wiring.container;
      const variables = container.env.variables;
      for (const [name, { value, source }] of wiring.env) {
        if (variables[name] !== value) {
          errors.push(`${at} env var ${quote(name)} (${source}) was replaced by another value of container ${quote(container.name)}; give one of them another env var name`);
        }
      }
      for (const [name, source] of wiring.envFrom) {
        if (hasOwn(variables, name)) {
          const other = wiring.env.get(name)?.source ?? `env var ${quote(name)} of container ${quote(container.name)}`;
          errors.push(`${at} env var ${quote(name)} is set by both ${source} and ${other}, and env wins silently; give one of them another env var name`);
        }
      }
      for (const [volume, path] of wiring.volumes) {
        for (const mount of container.mounts) {
          if (mount.volume !== volume && overlaps(mount.path, path)) {
            errors.push(`${at} secret mount ${quote(path)} overlaps mount ${quote(mount.path)} of container ${quote(container.name)}; give each mount its own directory`);
          }
        }
      }
    }
    if (RUN_ONCE_KINDS.includes(this.workload.kind)) {
      const annotated = this.workload.metadata.toJson().annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION]
        ?? this.workload.podMetadata.toJson().annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION];
      if (annotated !== undefined) {
        errors.push(
          `${at} ${this.workload.kind} ${this.workload.node.path} has annotation ${INFISICAL_AUTO_RELOAD_ANNOTATION}=${quote(annotated)}, which the operator ignores on Jobs, CronJobs and Pods; ` +
            'remove it: the next pod reads the current Secret and mounted files refresh in place',
        );
      }
    }
    return [...errors, ...this.validateRotation()];
  }

  /**
   * The rotation rule of {@link SecretMountedJob} for a Job or CronJob: a run deadline of at most
   * the rotation period of every secret read. Renders the workload only when such a secret is read.
   */
  private validateRotation(): string[] {
    if (!runsToCompletion(this.workload)) return [];
    return rotationProblems(this.node.path, this.secretsRead, () => renderedRunDeadline(this.workload), ACTIVE_DEADLINE);
  }
}
