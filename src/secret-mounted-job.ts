import { ApiObject, Cron, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DbtProfile } from './dbt-profile';
import { optionalString } from './internal/runtime-props';
import { childPath, constructError, quote } from './internal/validation';
import { checkJobProps } from './internal/workload-props';
import { SecretWorkload } from './secret-workload';
import { SecretWorkloadProps } from './secret-workload-props';

/** The Infisical operator's reload annotation; it is honoured for Deployments, DaemonSets and StatefulSets only. */
export const INFISICAL_AUTO_RELOAD_ANNOTATION = 'secrets.infisical.com/auto-reload';

/** Where {@link SecretMountedJob.useDbtProfile} mounts `profiles.yml` by default. */
export const DEFAULT_DBT_PROFILES_DIR = '/etc/dbt';

/**
 * The writable directory {@link SecretMountedJob.useDbtProfile} gives dbt by default, for its
 * `target/` and `logs/`.
 */
export const DEFAULT_DBT_OUTPUT_DIR = '/work';

/** Seconds a finished Job is kept by default before Kubernetes deletes it: one day. */
export const DEFAULT_JOB_TTL_SECONDS = 86400;

/** Options of {@link SecretMountedJob.useDbtProfile}. */
export interface DbtProfileMountOptions {
  /**
   * The directory `profiles.yml` is mounted in (read-only); `DBT_PROFILES_DIR` points at it.
   *
   * @default `/etc/dbt`
   */
  readonly mountPath?: string;

  /**
   * A writable directory for what dbt writes: `DBT_TARGET_PATH` is `<outputDir>/target` and
   * `DBT_LOG_PATH` is `<outputDir>/logs` (dbt 1.5 or later reads them), so the dbt project can stay
   * in the image, read-only. An emptyDir is mounted there unless the job already has a writable
   * mount at exactly that path (its `workingDir`, or one of its `volumes`).
   *
   * @default - the job's `workingDir` when it has one, else `/work`
   */
  readonly outputDir?: string;
}

/** Properties of a {@link SecretMountedJob}. */
export interface SecretMountedJobProps extends SecretWorkloadProps {
  /**
   * Run on this schedule as a CronJob instead of once as a Job.
   *
   * @default - a Job
   */
  readonly schedule?: Cron;

  /**
   * Retries before the Job is marked failed.
   *
   * @default 6 (the Kubernetes default)
   */
  readonly backoffLimit?: number;

  /**
   * Seconds after which the Job is stopped, however many retries are left. When the job reads a
   * secret whose source declares a rotation period, this must be set and at most that period,
   * so that every run completes before the secret expires.
   *
   * @default - no deadline
   * @requirement REQ-138
   */
  readonly activeDeadlineSeconds?: number;

  /**
   * Seconds after finishing (succeeded or failed) before Kubernetes deletes the Job and its pods;
   * `null` keeps them until deleted. For a CronJob it applies to each Job it starts, on top of the
   * history limits.
   *
   * Under Argo CD with automated sync, a plain Job (no schedule) deleted this way is missing from
   * the cluster, so Argo CD creates it again and it runs again: pass `null` for such a Job, or
   * make it an Argo CD hook.
   *
   * @default 86400 (one day)
   */
  readonly ttlSecondsAfterFinished?: number | null;

  /**
   * Succeeded Jobs a CronJob keeps. CronJobs only.
   *
   * @default 3 (the Kubernetes default)
   */
  readonly successfulJobsHistoryLimit?: number;

  /**
   * Failed Jobs a CronJob keeps, for their logs. CronJobs only.
   *
   * @default 1 (the Kubernetes default)
   */
  readonly failedJobsHistoryLimit?: number;

  /**
   * What a CronJob does when a run is due while the previous one still runs. CronJobs only.
   *
   * @default kplus.ConcurrencyPolicy.FORBID - skip the new run, so two runs never read and write
   * at once
   */
  readonly concurrencyPolicy?: kplus.ConcurrencyPolicy;

  /**
   * Seconds after its scheduled time within which a missed run may still start (at least 10).
   * CronJobs only.
   *
   * @default - no deadline: a missed run starts whenever the controller catches up
   */
  readonly startingDeadlineSeconds?: number;
}

/**
 * A Job, or a CronJob when given a schedule, that declares the secrets it uses and how: single
 * keys as env vars, whole secrets as `envFrom`, and secrets as read-only files under
 * `/run/secrets/<secret-name>/`. It creates its own ServiceAccount (token automount off) and a
 * Role that lets it `get` exactly the Secrets it uses, nothing more.
 *
 * Reload semantics: a Job's pod template cannot change, and operators ignore reload annotations
 * on Jobs, so this construct never carries `secrets.infisical.com/auto-reload` (adding it to the
 * Job or its pod template is an error). A new pod (a retry, the next CronJob run) reads the current Secret. While a pod
 * runs, the kubelet refreshes mounted secret files in place; env vars never change.
 */
export class SecretMountedJob extends SecretWorkload {
  /** The Job or CronJob (construct id `Resource`). */
  public readonly resource: k8s.KubeJob | k8s.KubeCronJob;
  /** The Job or CronJob name. */
  public readonly jobName: string;
  /** The schedule, for a CronJob. */
  public readonly schedule?: Cron;
  /** Seconds after which a run is stopped. */
  public readonly activeDeadlineSeconds?: number;

  private readonly dbtProfiles: DbtProfile[] = [];

  public constructor(scope: Construct, id: string, props: SecretMountedJobProps) {
    checkJobProps(childPath(scope, id), props);
    super(scope, id, props, props.schedule
      ? { kind: 'CronJob', component: 'cronjob', maxNameLength: 52, restartPolicy: 'Never' }
      : { kind: 'Job', component: 'job', maxNameLength: 63, restartPolicy: 'Never' });
    this.jobName = this.workloadName;
    this.schedule = props.schedule;
    this.activeDeadlineSeconds = props.activeDeadlineSeconds;

    const jobSpec = {
      backoffLimit: props.backoffLimit,
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      ttlSecondsAfterFinished: props.ttlSecondsAfterFinished === null ? undefined : props.ttlSecondsAfterFinished ?? DEFAULT_JOB_TTL_SECONDS,
      template: Lazy.any({ produce: () => this.renderPodTemplate() }),
    };
    this.resource = props.schedule
      ? new k8s.KubeCronJob(this, 'Resource', {
        metadata: this.renderWorkloadMetadata(),
        spec: {
          schedule: props.schedule.expressionString,
          concurrencyPolicy: props.concurrencyPolicy ?? kplus.ConcurrencyPolicy.FORBID,
          startingDeadlineSeconds: props.startingDeadlineSeconds,
          successfulJobsHistoryLimit: props.successfulJobsHistoryLimit ?? 3,
          failedJobsHistoryLimit: props.failedJobsHistoryLimit ?? 1,
          jobTemplate: { spec: jobSpec },
        },
      })
      : new k8s.KubeJob(this, 'Resource', { metadata: this.renderWorkloadMetadata(), spec: jobSpec });

    this.node.addValidation({ validate: () => [...this.validateJob(), ...this.validateRotation()] });
  }

  /**
   * Mounts a dbt profile's `profiles.yml` and points `DBT_PROFILES_DIR` at it, and gives dbt a
   * writable directory for `target/` and `logs/` (see {@link DbtProfileMountOptions.outputDir}):
   * the root filesystem is read-only, and without it `dbt build` fails. Every env var the profile
   * reads must be wired into this job (`secretEnv`, `env` or `secretEnvFrom`), or synth fails.
   *
   * @requirement REQ-136
   */
  public useDbtProfile(profile: DbtProfile, options: DbtProfileMountOptions = {}): this {
    if (profile.domain !== this.domain) {
      throw constructError(
        this,
        `dbt profile ${profile.node.path} is in domain ${quote(profile.domain.domainName)}, not ${quote(this.domain.domainName)}`,
        'create the profile in the job\'s domain',
      );
    }
    optionalString(this.node.path, 'mountPath', options.mountPath, 'give an absolute directory, e.g. "/etc/dbt"');
    optionalString(this.node.path, 'outputDir', options.outputDir, 'give an absolute directory the image leaves empty, e.g. "/work"');
    const mountPath = options.mountPath ?? DEFAULT_DBT_PROFILES_DIR;
    const outputDir = options.outputDir ?? this.workingDir ?? DEFAULT_DBT_OUTPUT_DIR;
    const what = `dbt profile ${profile.node.path}`;
    // All or nothing: a clash of the second mount or an env var leaves nothing of this call behind.
    this.pod.atomically(() => {
      this.pod.addConfigMapVolume(`dbt-profile-${this.dbtProfiles.length}`, profile.configMapName, mountPath);
      this.pod.addEnv('DBT_PROFILES_DIR', mountPath, what);
      if (!this.pod.hasWritableMount(outputDir)) this.pod.addEmptyDir(`dbt-output-${this.dbtProfiles.length}`, outputDir);
      this.pod.addEnv('DBT_TARGET_PATH', `${outputDir}/target`, what);
      this.pod.addEnv('DBT_LOG_PATH', `${outputDir}/logs`, what);
    });
    this.dbtProfiles.push(profile);
    return this;
  }

  /**
   * Adds an annotation to the pod template.
   *
   * @throws for `secrets.infisical.com/auto-reload`, which operators ignore on Jobs and CronJobs
   */
  public addPodAnnotation(key: string, value: string): this {
    if (key === INFISICAL_AUTO_RELOAD_ANNOTATION) {
      throw constructError(
        this,
        `annotation ${INFISICAL_AUTO_RELOAD_ANNOTATION} is ignored by the operator on Jobs and CronJobs`,
        'leave it out: the next pod reads the current Secret and mounted files refresh in place; use SecretMountedDeployment for a workload that must restart',
      );
    }
    return super.addPodAnnotation(key, value);
  }

  /** @internal */
  protected get maxRunSeconds(): number | undefined {
    return this.activeDeadlineSeconds;
  }

  public get runsToCompletion(): boolean {
    return true;
  }

  private validateJob(): string[] {
    const errors: string[] = [];
    // cdk8s validates the whole app once per chart, so this must stay cheap: it reads the Job's own
    // metadata (annotations added through ApiObject.of() included) and never renders the Job.
    // JSON patches are not seen; the pod template is guarded by addPodAnnotation.
    const annotated = ApiObject.of(this.resource).metadata.toJson().annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION];
    if (annotated !== undefined) {
      errors.push(
        `${this.node.path}: has annotation ${INFISICAL_AUTO_RELOAD_ANNOTATION}=${quote(annotated)}, which the operator ignores on Jobs and CronJobs; ` +
          'remove it: the next pod reads the current Secret and mounted files refresh in place',
      );
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
