import { ApiObject, Lazy, Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { DOMAIN_LABEL, FloeDomain } from './floe-domain';
import { IFloeSecret } from './floe-secret';
import { FloeServiceAccount } from './floe-service-account';
import { describeValue, isRecord } from './internal/runtime-props';
import { SecretPodWiring } from './internal/secret-pod';
import { effectiveFileMode, fileModeDescription, SecretReads } from './internal/secret-reads';
import { rotationProblems, sourcesAnnotation } from './internal/secret-sources';
import { childPath, constructError, quote } from './internal/validation';
import { VAULT_AGENT_PORT } from './internal/vault-agent-port';
import { checkWorkloadProps } from './internal/workload-props';
import { canonicalResources, DEFAULT_RESOURCES, MANAGED_BY, toResourceRequirements } from './internal/workload-spec';
import { DEFAULT_RUN_AS_USER, DEFAULT_SECRET_FILE_MODE } from './pod-spec';
import { SecretReference } from './secret-reference';
import { SECRET_SOURCES_ANNOTATION } from './secret-source';
import { SecretEnvOptions, SecretFileMount, SecretWorkloadProps, WorkloadKind } from './secret-workload-props';

/**
 * Annotation on the workload (the Job, CronJob, Deployment, StatefulSet or DaemonSet itself, not its pod template) that
 * states the effective mode and ownership of mounted secret files, for reviewers.
 */
export const SECRET_FILE_MODE_ANNOTATION = 'floe.dev/secret-file-mode';

/** The Vault Agent sidecar's quit endpoint (`agent-enable-quit`). */
const VAULT_AGENT_QUIT_URL = `http://127.0.0.1:${VAULT_AGENT_PORT}/agent/v1/quit`;

/**
 * Asks the Vault Agent sidecar to quit with whichever HTTP client the image has: wget, curl or
 * python3. It tries for up to 10 seconds: a command that ends at once may end before the agent
 * listens.
 */
const VAULT_AGENT_QUIT = [
  'floe_quit() {',
  `  wget -q -O /dev/null --post-data "" ${VAULT_AGENT_QUIT_URL} 2>/dev/null`
    + ` || curl -fsS -o /dev/null -X POST ${VAULT_AGENT_QUIT_URL} 2>/dev/null`
    + ` || python3 -c "import urllib.request as u; u.urlopen(u.Request('${VAULT_AGENT_QUIT_URL}', method='POST'))" 2>/dev/null`,
  '}',
  'tries=0',
  'until floe_quit; do',
  '  tries=$((tries + 1))',
  `  if [ "$tries" -ge 10 ]; then echo "floe: could not ask the Vault Agent to quit (no answer on 127.0.0.1:${VAULT_AGENT_PORT}, or no wget, curl or python3 in the image)" >&2; break; fi`,
  '  sleep 1',
  'done',
].join('\n');

/** How {@link SecretWorkload._wrapCommand} wraps the main container's command. @internal */
export interface CommandWrapOptions {
  /** A file of `NAME='value'` lines to export before the command runs. */
  readonly envFile?: string;
  /** The env var names that file exports (checked against the container's own). */
  readonly envVars?: readonly string[];
  /** Ask the Vault Agent sidecar to quit when the command exits. */
  readonly quitAgent?: boolean;
}

/**
 * The secret wiring shared by {@link SecretMountedJob} and the long-running workloads
 * ({@link SecretMountedDeployment}, {@link SecretMountedStatefulSet}, {@link SecretMountedDaemonSet}): a
 * pod of one container that declares the secrets it uses as env vars, envFrom and read-only
 * files, runs as its own ServiceAccount (token automount off) with a Role that lets it `get`
 * exactly those Secrets, as a non-root user with a read-only root filesystem, the RuntimeDefault
 * seccomp profile and no capabilities (Pod Security "restricted"), a writable `/tmp`, resource
 * requests and limits, and the `app.kubernetes.io/*` labels.
 */
export abstract class SecretWorkload extends Construct {
  /** The workload name (also its ServiceAccount's). */
  public readonly workloadName: string;
  /** The domain the workload runs in. */
  public readonly domain: FloeDomain;
  /** The ServiceAccount the pods run as. */
  public readonly serviceAccount: FloeServiceAccount;
  /** The mode of secret files as written in the volume. */
  public readonly fileMode: number;
  /** The mode of secret files as the container sees them (after the kubelet's fsGroup adjustment). */
  public readonly effectiveFileMode: number;
  /** The container's user id. */
  public readonly runAsUser: number;
  /** The container's group id. */
  public readonly runAsGroup: number;
  /** The pod's fsGroup, or undefined for none. */
  public readonly fsGroup?: number;
  /** The container's resource requests and limits, in Kubernetes form. */
  public readonly resources: k8s.ResourceRequirements;
  /** The container's writable working directory, when it has one. */
  public readonly workingDir?: string;
  /** Whether `/tmp` is a writable emptyDir. */
  public readonly writableTmp: boolean;

  /** The workload's own API object (construct id `Resource`). */
  public abstract readonly resource: ApiObject;

  /** @internal */
  protected readonly pod = new SecretPodWiring(this);
  private readonly workloadProps: SecretWorkloadProps;
  private readonly workloadKind: WorkloadKind;
  private readonly reads: SecretReads;
  private readonly podAnnotations = new Map<string, string>();
  /** What the main container's command is wrapped with: env files to source, the Vault Agent to stop. */
  private readonly commandWrap = { envFiles: [] as string[], quitAgent: false };

  protected constructor(scope: Construct, id: string, props: SecretWorkloadProps, kind: WorkloadKind) {
    checkWorkloadProps(childPath(scope, id), props, kind);
    super(scope, id);
    this.workloadProps = props;
    this.workloadKind = kind;
    this.domain = FloeDomain.of(this);
    this.reads = new SecretReads(this, this, this.domain, (secret) => this.onSecretUsed(secret));

    this.runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
    this.runAsGroup = props.runAsGroup ?? this.runAsUser;
    this.fsGroup = props.fsGroup === null ? undefined : props.fsGroup ?? this.runAsGroup;
    this.fileMode = props.fileMode ?? DEFAULT_SECRET_FILE_MODE;
    this.effectiveFileMode = effectiveFileMode(this.fileMode, this.fsGroup);

    // Names.toDnsLabel adds a hash of the full path, so two workloads never share a default name.
    this.workloadName = props.name ?? Names.toDnsLabel(this, { maxLen: kind.maxNameLength });
    this.domain._claimName(this, kind.kind, this.workloadName);
    this.resources = props.resources === undefined ? DEFAULT_RESOURCES : canonicalResources(toResourceRequirements(props.resources));
    this.writableTmp = props.writableTmp ?? true;
    this.workingDir = props.workingDir;
    this.serviceAccount = new FloeServiceAccount(this, 'ServiceAccount', {
      serviceAccountName: this.workloadName,
      automountToken: props.automountServiceAccountToken ?? false,
    });

    if (this.writableTmp) this.pod.addEmptyDir('tmp', '/tmp');
    if (this.workingDir !== undefined) this.pod.addEmptyDir('workdir', this.workingDir);
    for (const { volume, mountPath, readOnly } of props.volumes ?? []) this.pod.addVolume(volume, { name: volume.name, mountPath, readOnly });
    for (const [key, value] of Object.entries(props.podAnnotations ?? {})) this.addPodAnnotation(key, value);
    for (const [name, value] of Object.entries(props.env ?? {})) this.pod.addEnv(name, value, `env ${quote(name)}`);
    for (const ref of props.secretEnv ?? []) this.addSecretEnv(ref);
    for (const secret of props.secretEnvFrom ?? []) this.addSecretEnvFrom(secret);
    for (const mount of props.secretFiles ?? []) {
      if (!isRecord(mount)) throw constructError(this, `a secretFiles entry must be { secret, keys?, mountPath? }, got ${describeValue(mount)}`, 'give each entry as { secret: floeSecret }');
      this.mountSecret(mount.secret, mount);
    }
  }

  /**
   * Injects one key as an env var through `secretKeyRef`, and grants the workload `get` on its
   * Secret.
   *
   * @throws when the name is taken, the key is not declared, or the secret is of another domain
   */
  public addSecretEnv(reference: SecretReference, options: SecretEnvOptions = {}): this {
    const { secret, name } = this.reads.checkSecretEnv(reference, options.name);
    this.pod.addSecretEnv(name, reference);
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /**
   * Injects every key of a secret as an env var of the same name through `envFrom`, and grants
   * the workload `get` on it.
   *
   * @throws when a key is not a valid env var name (Kubernetes would silently skip it) or is
   * already an env var of this workload
   */
  public addSecretEnvFrom(secret: IFloeSecret): this {
    this.reads.checkEnvFrom(secret);
    this.pod.addEnvFrom(secret);
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /**
   * Mounts a secret read-only as files, `<mountPath>/<key>` for each key, and grants the
   * workload `get` on it. The directory is mounted whole (never `subPath`), so the kubelet
   * refreshes the files while the pod runs.
   *
   * @throws when the mount path overlaps another mount or a key is not declared
   */
  public mountSecret(secret: IFloeSecret, options: Omit<SecretFileMount, 'secret'> = {}): this {
    const { keys, mountPath } = this.reads.checkMount(secret, options);
    this.pod.addSecretVolume(secret.secretName, { keys, mountPath, mode: this.fileMode });
    this.reads.grant(secret, this.serviceAccount);
    return this;
  }

  /**
   * Adds an annotation to the pod template (for example for an injector). Add only what the pod
   * needs at runtime: a Job's template is immutable.
   *
   * @throws when the annotation is already set to another value
   */
  public addPodAnnotation(key: string, value: string): this {
    const previous = this.podAnnotations.get(key);
    if (previous !== undefined && previous !== value) {
      throw constructError(this, `pod annotation ${quote(key)} is already set to ${quote(previous)}`, 'set each annotation once');
    }
    this.podAnnotations.set(key, value);
    return this;
  }

  /**
   * Wraps the main container's command in `/bin/sh -c`: it exports the variables of `envFile`
   * (a file of `NAME='value'` lines written by an injector) before the command runs, and, with
   * `quitAgent`, asks the Vault Agent sidecar to quit when the command exits, with the command's
   * exit status.
   *
   * @throws when the workload gives no `command` (an image's entrypoint cannot be wrapped)
   * @internal
   */
  public _wrapCommand(owner: IConstruct, options: CommandWrapOptions): void {
    if (this.workloadProps.command === undefined || this.workloadProps.command.length === 0) {
      const why = options.quitAgent ? 'to stop the Vault Agent sidecar when it exits' : 'to export its env file';
      throw constructError(
        this,
        `${owner.node.path} wraps the main container's command (${why}), but the workload gives no command`,
        'give command, the program the image runs (e.g. ["dbt"]), with its arguments in args',
      );
    }
    this.pod.reserveEnv(options.envVars ?? [], `the env file of ${owner.node.path}`);
    if (options.envFile !== undefined && !this.commandWrap.envFiles.includes(options.envFile)) this.commandWrap.envFiles.push(options.envFile);
    if (options.quitAgent) this.commandWrap.quitAgent = true;
  }

  /** The main container's command and args, wrapped when {@link _wrapCommand} asked for it. */
  private mainCommand(): { command?: string[]; args?: string[] } {
    const { command, args } = this.workloadProps;
    const { envFiles, quitAgent } = this.commandWrap;
    if (envFiles.length === 0 && !quitAgent) return { command, args };
    const lines = [
      ...envFiles.map((file) => `set -a; . '${file}'; set +a`),
      '"$@"',
      'status=$?',
      ...(quitAgent ? [VAULT_AGENT_QUIT] : []),
      'exit $status',
    ];
    return { command: ['/bin/sh', '-c', lines.join('\n'), 'floe-run', ...command!, ...(args ?? [])] };
  }

  /**
   * Reserves a directory that an injector (the Vault Agent) fills, so that no volume of this
   * workload overlaps it.
   *
   * @throws when it overlaps a mount of this workload
   */
  public reserveMountPath(mountPath: string): this {
    this.pod.reserveMount(mountPath);
    return this;
  }

  /**
   * The mode and ownership of mounted secret files as the container sees them, e.g.
   * `0440 root:10001`; also written on the workload's own metadata as `floe.dev/secret-file-mode`.
   */
  public get fileModeDescription(): string {
    return fileModeDescription(this.fileMode, this.fsGroup);
  }

  /** The env var names this workload sets, sorted (a copy); envFrom keys included. */
  public get envVarNames(): string[] {
    return this.pod.envVarNames;
  }

  /** The names of the Secrets this workload uses and may `get`, sorted (a copy). */
  public get secretNames(): string[] {
    return this.reads.secretNames;
  }

  /** The secrets this workload uses, by name order (a copy). */
  public get secretsRead(): IFloeSecret[] {
    return this.reads.secretsRead;
  }

  /**
   * Seconds after which a run of this workload is stopped, for checking rotation periods;
   * undefined for workloads that run until replaced.
   *
   * @internal
   */
  protected abstract get maxRunSeconds(): number | undefined;

  /** Whether this workload runs to completion (a Job or CronJob) rather than until replaced. */
  public abstract get runsToCompletion(): boolean;

  /**
   * The workload's own metadata: its name, and the annotations for reviewers. These describe the
   * pod (`floe.dev/secret-file-mode`) and the sources it follows (`floe.dev/secret-sources`), but
   * the pod does not read them at runtime, so they stay out of the pod template: a Job's template
   * is immutable, and a source setting such as a resync interval must not change it (nor roll a
   * Deployment).
   *
   * @internal
   */
  protected renderWorkloadMetadata(): k8s.ObjectMeta {
    return {
      name: this.workloadName,
      labels: { ...this.standardLabels(), ...this.workloadProps.labels },
      annotations: {
        ...this.workloadProps.annotations,
        [SECRET_FILE_MODE_ANNOTATION]: Lazy.any({ produce: () => (this.pod.mountsSecrets ? this.fileModeDescription : undefined) }),
        [SECRET_SOURCES_ANNOTATION]: Lazy.any({ produce: () => sourcesAnnotation(this.secretsRead) }),
      },
    };
  }

  /**
   * The labels that select this workload's pods (the selector of a Deployment, StatefulSet or
   * DaemonSet, and of a StatefulSet's headless Service): they never change, since a selector is
   * immutable.
   *
   * @internal
   */
  protected selectorLabels(): { [key: string]: string } {
    return { [DOMAIN_LABEL]: this.domain.domainName, 'floe.dev/workload': this.workloadName };
  }

  /**
   * The container fields only some kinds set (ports and probes of the long-running kinds).
   *
   * @internal
   */
  protected containerExtras(): Partial<k8s.Container> {
    return {};
  }

  /**
   * `app.kubernetes.io/*`: derived from the name, kind and domain only, so they never change a
   * Job's template unless the Job itself changes.
   */
  private standardLabels(): { [key: string]: string } {
    return {
      'app.kubernetes.io/name': this.workloadName,
      'app.kubernetes.io/instance': this.workloadName,
      'app.kubernetes.io/component': this.workloadKind.component,
      'app.kubernetes.io/part-of': this.workloadProps.partOf ?? this.domain.domainName,
      'app.kubernetes.io/managed-by': MANAGED_BY,
    };
  }

  /** The pod template. @internal */
  protected renderPodTemplate(): k8s.PodTemplateSpec {
    const props = this.workloadProps;
    const annotations: { [key: string]: string } = Object.fromEntries(this.podAnnotations);
    return {
      metadata: {
        labels: { ...this.standardLabels(), ...props.podLabels, ...this.selectorLabels() },
        annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
      },
      spec: {
        serviceAccountName: this.serviceAccount.serviceAccountName,
        automountServiceAccountToken: this.serviceAccount.automountToken,
        restartPolicy: this.workloadKind.restartPolicy,
        imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
        nodeSelector: props.nodeSelector,
        tolerations: props.tolerations,
        affinity: props.affinity,
        securityContext: {
          runAsNonRoot: this.runAsUser !== 0,
          runAsUser: this.runAsUser,
          runAsGroup: this.runAsGroup,
          fsGroup: this.fsGroup,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: 'main',
            image: props.image,
            ...this.mainCommand(),
            workingDir: this.workingDir,
            ...this.pod.renderContainer(),
            ...this.containerExtras(),
            resources: Object.values(this.resources).some((v) => v !== undefined) ? this.resources : undefined,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
        volumes: this.pod.renderVolumes(),
      },
    };
  }

  /**
   * Called for every secret the workload starts to use, including those given in props (before
   * the subclass constructor has run).
   *
   * @internal
   */
  protected onSecretUsed(_secret: IFloeSecret): void {}

  /** Synth-time checks common to all workloads: rotation deadlines. @internal */
  protected validateRotation(): string[] {
    if (!this.runsToCompletion) return [];
    return rotationProblems(this.node.path, this.secretsRead, () => this.maxRunSeconds, { name: 'activeDeadlineSeconds', format: String });
  }
}

