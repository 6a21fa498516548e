import { ApiObject, Cron, Lazy, Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DbtProfile } from './dbt-profile';
import { DOMAIN_LABEL, FloeDomain } from './floe-domain';
import { assertSameDomain, assertSecretHasKey, IFloeSecret } from './floe-secret';
import { FloeServiceAccount } from './floe-service-account';
import { checkJobProps } from './internal/job-props';
import { SecretPodWiring } from './internal/secret-pod';
import { childPath, constructError, octal, quote } from './internal/validation';
import { DEFAULT_RUN_AS_USER, DEFAULT_SECRET_FILE_MODE, SECRET_MOUNT_ROOT } from './pod-spec';
import { SecretReference } from './secret-reference';

/** The Infisical operator's reload annotation; it is honoured for Deployments, DaemonSets and StatefulSets only. */
export const INFISICAL_AUTO_RELOAD_ANNOTATION = 'secrets.infisical.com/auto-reload';

/** Pod annotation that states the effective mode and ownership of mounted secret files, for reviewers. */
export const SECRET_FILE_MODE_ANNOTATION = 'floe.dev/secret-file-mode';

/** Where {@link SecretMountedJob.useDbtProfile} mounts `profiles.yml` by default. */
export const DEFAULT_DBT_PROFILES_DIR = '/etc/dbt';

/** A Secret, or some of its keys, mounted as files. */
export interface SecretFileMount {
  /** The secret to mount. */
  readonly secret: IFloeSecret;

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
}

/** Options of {@link SecretMountedJob.addSecretEnv}. */
export interface SecretEnvOptions {
  /**
   * The env var name.
   *
   * @default - the reference's {@link SecretReference.envVarName}
   */
  readonly name?: string;
}

/** Properties of a {@link SecretMountedJob}. */
export interface SecretMountedJobProps {
  /** The container image. */
  readonly image: string;

  /**
   * The Job (or CronJob) name, also used for its ServiceAccount and Role.
   *
   * @default - a name derived from the construct path
   */
  readonly name?: string;

  /**
   * Run on this schedule as a CronJob instead of once as a Job.
   *
   * @default - a Job
   */
  readonly schedule?: Cron;

  /**
   * The container entrypoint.
   *
   * @default - the image's entrypoint
   */
  readonly command?: string[];

  /**
   * Arguments to the entrypoint.
   *
   * @default - the image's arguments
   */
  readonly args?: string[];

  /**
   * Plain (non-secret) env vars.
   *
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /**
   * Single keys injected as env vars through `secretKeyRef` (REQ-136), each named by its
   * {@link SecretReference.envVarName}. Use {@link SecretMountedJob.addSecretEnv} for another name.
   *
   * @default - none
   */
  readonly secretEnv?: SecretReference[];

  /**
   * Whole secrets injected through `envFrom`: every key becomes an env var of the same name.
   *
   * @default - none
   */
  readonly secretEnvFrom?: IFloeSecret[];

  /**
   * Secrets mounted read-only as files at `/run/secrets/<secret-name>/<key>` (REQ-137).
   *
   * @default - none
   */
  readonly secretFiles?: SecretFileMount[];

  /**
   * Mode of the mounted secret files as written in the volume. With an fsGroup the kubelet
   * adds group read, so the mode seen in the container is `fileMode | 0o440`: the default
   * 0o400 gives 0o440, owner root and group `fsGroup`, which the container's user reads through
   * its group and nobody else can. That is the tightest mode a non-root user can read: a
   * root-owned 0o600 file without fsGroup is unreadable by it. Modes that give others any
   * access are rejected.
   *
   * @default 0o400
   */
  readonly fileMode?: number;

  /**
   * The container's user id. `0` (root) is allowed but not recommended.
   *
   * @default 10001
   */
  readonly runAsUser?: number;

  /**
   * The container's primary group id.
   *
   * @default - same as runAsUser
   */
  readonly runAsGroup?: number;

  /**
   * The pod's fsGroup: the group that owns the mounted secret files. `null` sets none, which
   * leaves the files owned by root:root and is only accepted when the container runs as root.
   *
   * @default - same as runAsGroup
   */
  readonly fsGroup?: number | null;

  /**
   * Mount an API token into the pod, for workloads that read secrets through the Kubernetes API
   * themselves. Env vars and secret files are delivered by the kubelet and need no token.
   *
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;

  /**
   * Retries before the Job is marked failed.
   *
   * @default 6 (the Kubernetes default)
   */
  readonly backoffLimit?: number;

  /**
   * Seconds after which the Job is stopped, however many retries are left.
   *
   * @default - no deadline
   */
  readonly activeDeadlineSeconds?: number;

  /**
   * Seconds after finishing before the Job is deleted.
   *
   * @default - kept until deleted
   */
  readonly ttlSecondsAfterFinished?: number;

  /**
   * Container resource requests and limits.
   *
   * @default - none
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * A Job, or a CronJob when given a schedule, that declares the secrets it uses and how: single
 * keys as env vars, whole secrets as `envFrom`, and secrets as read-only files under
 * `/run/secrets/<secret-name>/`. It creates its own ServiceAccount (token automount off) and a
 * Role that lets it `get` exactly the Secrets it uses, nothing more.
 *
 * Reload semantics: a Job's pod template cannot change, and operators ignore reload annotations
 * on Jobs, so this construct never carries `secrets.infisical.com/auto-reload` (adding it is a
 * synth error). A new pod (a retry, the next CronJob run) reads the current Secret. While a pod
 * runs, the kubelet refreshes mounted secret files in place; env vars never change.
 */
export class SecretMountedJob extends Construct {
  /** The Job or CronJob name. */
  public readonly jobName: string;
  /** The domain the job runs in. */
  public readonly domain: FloeDomain;
  /** The ServiceAccount the pods run as. */
  public readonly serviceAccount: FloeServiceAccount;
  /** The Job or CronJob (construct id `Resource`). */
  public readonly resource: k8s.KubeJob | k8s.KubeCronJob;
  /** The schedule, for a CronJob. */
  public readonly schedule?: Cron;
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

  private readonly props: SecretMountedJobProps;
  private readonly pod = new SecretPodWiring(this);
  private readonly secretsUsed = new Map<string, IFloeSecret>();
  private readonly dbtProfiles: DbtProfile[] = [];

  public constructor(scope: Construct, id: string, props: SecretMountedJobProps) {
    const path = childPath(scope, id);
    checkJobProps(path, props);
    super(scope, id);
    this.props = props;
    this.domain = FloeDomain.of(this);
    this.schedule = props.schedule;

    this.runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
    this.runAsGroup = props.runAsGroup ?? this.runAsUser;
    this.fsGroup = props.fsGroup === null ? undefined : props.fsGroup ?? this.runAsGroup;
    this.fileMode = props.fileMode ?? DEFAULT_SECRET_FILE_MODE;
    this.effectiveFileMode = this.fsGroup === undefined ? this.fileMode : this.fileMode | 0o440;

    const maxNameLength = props.schedule ? 52 : 63;
    // Names.toDnsLabel adds a hash of the full path, so two jobs never share a default name.
    this.jobName = props.name ?? Names.toDnsLabel(this, { maxLen: maxNameLength });
    this.domain._claimName(this, props.schedule ? 'CronJob' : 'Job', this.jobName);

    this.serviceAccount = new FloeServiceAccount(this, 'ServiceAccount', {
      serviceAccountName: this.jobName,
      automountToken: props.automountServiceAccountToken ?? false,
    });

    for (const [name, value] of Object.entries(props.env ?? {})) this.pod.addEnv(name, value, `env ${quote(name)}`);
    for (const ref of props.secretEnv ?? []) this.addSecretEnv(ref);
    for (const secret of props.secretEnvFrom ?? []) this.addSecretEnvFrom(secret);
    for (const mount of props.secretFiles ?? []) this.mountSecret(mount.secret, mount);

    const template = Lazy.any({ produce: () => this.renderPodTemplate() });
    const jobSpec = {
      backoffLimit: props.backoffLimit,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      ttlSecondsAfterFinished: props.ttlSecondsAfterFinished,
      template,
    };
    this.resource = props.schedule
      ? new k8s.KubeCronJob(this, 'Resource', {
        metadata: { name: this.jobName },
        spec: {
          schedule: props.schedule.expressionString,
          concurrencyPolicy: 'Forbid',
          jobTemplate: { spec: jobSpec },
        },
      })
      : new k8s.KubeJob(this, 'Resource', { metadata: { name: this.jobName }, spec: jobSpec });

    this.node.addValidation({ validate: () => this.validateJob() });
  }

  /**
   * Injects one key as an env var through `secretKeyRef`, and grants the job `get` on its Secret.
   *
   * @throws when the name is taken, the key is not declared, or the secret is of another domain
   */
  public addSecretEnv(reference: SecretReference, options: SecretEnvOptions = {}): this {
    const secret = this.useSecret(reference.secret, `reference ${reference}`);
    assertSecretHasKey(this, secret, reference.key);
    this.pod.addSecretEnv(options.name ?? reference.envVarName, reference);
    return this;
  }

  /**
   * Injects every key of a secret as an env var of the same name through `envFrom`, and grants
   * the job `get` on it.
   *
   * @throws when a key is not a valid env var name (Kubernetes would silently skip it) or is
   * already an env var of this job
   */
  public addSecretEnvFrom(secret: IFloeSecret): this {
    this.useSecret(secret, `secret ${quote(secret.secretName)}`);
    this.pod.addEnvFrom(secret);
    return this;
  }

  /**
   * Mounts a secret read-only as files, `<mountPath>/<key>` for each key, and grants the job
   * `get` on it. The directory is mounted whole (never `subPath`), so the kubelet refreshes the
   * files while the pod runs.
   *
   * @throws when the mount path overlaps another mount or a key is not declared
   */
  public mountSecret(secret: IFloeSecret, options: Omit<SecretFileMount, 'secret'> = {}): this {
    this.useSecret(secret, `secret ${quote(secret.secretName)}`);
    for (const key of options.keys ?? []) assertSecretHasKey(this, secret, key);
    const mountPath = options.mountPath ?? `${SECRET_MOUNT_ROOT}/${secret.secretName}`;
    this.pod.addSecretVolume(secret.secretName, { keys: options.keys, mountPath, mode: this.fileMode });
    return this;
  }

  /**
   * Mounts a dbt profile's `profiles.yml` and points `DBT_PROFILES_DIR` at it. Every env var the
   * profile reads must be wired into this job (`secretEnv`, `env` or `secretEnvFrom`), or synth
   * fails (REQ-136).
   */
  public useDbtProfile(profile: DbtProfile, options: { readonly mountPath?: string } = {}): this {
    if (profile.domain !== this.domain) {
      throw constructError(
        this,
        `dbt profile ${profile.node.path} is in domain ${quote(profile.domain.domainName)}, not ${quote(this.domain.domainName)}`,
        'create the profile in the job\'s domain',
      );
    }
    const mountPath = options.mountPath ?? DEFAULT_DBT_PROFILES_DIR;
    this.pod.addConfigMapVolume(`dbt-profile-${this.dbtProfiles.length}`, profile.configMapName, mountPath);
    this.pod.addEnv('DBT_PROFILES_DIR', mountPath, `dbt profile ${profile.node.path}`);
    this.dbtProfiles.push(profile);
    return this;
  }

  /**
   * The mode and ownership of mounted secret files as the container sees them, e.g.
   * `0440 root:10001`; also written on the pod template as `floe.dev/secret-file-mode`.
   */
  public get fileModeDescription(): string {
    return `${octal(this.effectiveFileMode)} root:${this.fsGroup ?? 0}`;
  }

  /** The env var names this job sets, sorted (a copy); envFrom keys included. */
  public get envVarNames(): string[] {
    return this.pod.envVarNames;
  }

  /** The names of the Secrets this job uses and may `get`, sorted (a copy). */
  public get secretNames(): string[] {
    return [...this.secretsUsed.keys()].sort();
  }

  private useSecret(secret: IFloeSecret | undefined, what: string): IFloeSecret {
    if (!secret) {
      throw constructError(
        this,
        `${what} names no declared secret`,
        'make the reference with SecretReference.fromSecret(secret, key) so the job can check the key and grant access',
      );
    }
    assertSameDomain(this, this.domain, secret);
    secret.grantRead(this.serviceAccount);
    this.secretsUsed.set(secret.secretName, secret);
    return secret;
  }

  private renderPodTemplate(): k8s.PodTemplateSpec {
    return {
      metadata: {
        labels: { [DOMAIN_LABEL]: this.domain.domainName, 'floe.dev/job': this.jobName },
        annotations: this.pod.mountsSecrets ? { [SECRET_FILE_MODE_ANNOTATION]: this.fileModeDescription } : undefined,
      },
      spec: {
        serviceAccountName: this.serviceAccount.serviceAccountName,
        automountServiceAccountToken: this.serviceAccount.automountToken,
        restartPolicy: 'Never',
        securityContext: {
          runAsNonRoot: this.runAsUser !== 0,
          runAsUser: this.runAsUser,
          runAsGroup: this.runAsGroup,
          fsGroup: this.fsGroup,
        },
        containers: [
          {
            name: 'main',
            image: this.props.image,
            command: this.props.command,
            args: this.props.args,
            ...this.pod.renderContainer(),
            resources: this.props.resources,
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

  private validateJob(): string[] {
    const errors: string[] = [];
    // Resolved with escape-hatch patches applied, so an annotation added through ApiObject.of() counts too.
    const manifest = ApiObject.of(this.resource).toJson();
    const jobSpec = this.schedule ? manifest.spec?.jobTemplate?.spec : manifest.spec;
    for (const [where, metadata] of [['metadata', manifest.metadata], ['pod template', jobSpec?.template?.metadata]] as const) {
      const annotated = metadata?.annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION];
      if (annotated !== undefined) {
        errors.push(
          `${this.node.path}: ${where} has annotation ${INFISICAL_AUTO_RELOAD_ANNOTATION}=${quote(annotated)}, which the operator ignores on Jobs and CronJobs; ` +
            'remove it: the next pod reads the current Secret and mounted files refresh in place',
        );
      }
    }
    for (const profile of this.dbtProfiles) {
      const missing = profile.requiredEnvVars.filter((name) => !this.pod.hasEnv(name));
      if (missing.length > 0) {
        errors.push(
          `${this.node.path}: dbt profile ${profile.node.path} reads env vars this job does not set: ${missing.join(', ')}; ` +
            'add the matching SecretReference to secretEnv (or env) of the job',
        );
      }
    }
    return errors;
  }
}
