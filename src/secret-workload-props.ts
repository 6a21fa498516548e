import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import type { IFloeSecret } from './floe-secret';
import type { SecretReference } from './secret-reference';
// For {@link} in the docs only.
import type { SecretWorkload } from './secret-workload';

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

/** A volume of the pod and the directory where the container mounts it. */
export interface WorkloadVolume {
  /**
   * The volume, e.g. `{ name: 'cache', emptyDir: {} }` or
   * `{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }`. Its name must differ from the
   * volumes the workload makes itself (`tmp`, `workdir`, `secret-*`, `dbt-*`).
   */
  readonly volume: k8s.Volume;

  /** The directory the container mounts it at; it may not overlap another mount. */
  readonly mountPath: string;

  /**
   * Whether the container mounts it read-only.
   *
   * @default false
   */
  readonly readOnly?: boolean;
}

/** Options of {@link SecretWorkload.addSecretEnv}. */
export interface SecretEnvOptions {
  /**
   * The env var name.
   *
   * @default - the reference's {@link SecretReference.envVarName}
   */
  readonly name?: string;
}

/** Properties every secret-consuming workload shares. */
export interface SecretWorkloadProps {
  /** The container image. */
  readonly image: string;

  /**
   * The workload name, also used for its ServiceAccount and Role.
   *
   * @default - a name derived from the construct path
   */
  readonly name?: string;

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
   * Single keys injected as env vars through `secretKeyRef`, each named by its
   * {@link SecretReference.envVarName}. Use {@link SecretWorkload.addSecretEnv} for another name.
   *
   * @default - none
   * @requirement REQ-136
   */
  readonly secretEnv?: SecretReference[];

  /**
   * Whole secrets injected through `envFrom`: every key becomes an env var of the same name.
   *
   * @default - none
   */
  readonly secretEnvFrom?: IFloeSecret[];

  /**
   * Secrets mounted read-only as files at `/run/secrets/<secret-name>/<key>`.
   *
   * @default - none
   * @requirement REQ-137
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
   * Container resource requests and limits, in Kubernetes form
   * (`{ requests: { cpu: k8s.Quantity.fromString('250m') }, limits: { ... } }`) or in cdk8s-plus form
   * (`{ cpu: { request: kplus.Cpu.millis(250) }, memory: { limit: Size.gibibytes(1) } }`). Given, it
   * replaces the default whole; `{}` sets none (for a namespace whose LimitRange supplies them).
   * Every request must be at most its limit. Quantities are written as the API server stores them
   * (`1` for `1000m`, `2Gi` for `2048Mi` or `Size.gibibytes(2)`, rounded up to thousandths), so that
   * Argo CD sees no difference between Git and the cluster.
   *
   * @default - the amounts of cdk8s-plus-28's container defaults, in the canonical form the API
   * server stores: requests cpu 1 and memory 512Mi, limits cpu 1500m and memory 2Gi
   */
  readonly resources?: k8s.ResourceRequirements | kplus.ContainerResources;

  /**
   * Mount a writable emptyDir at `/tmp`. The root filesystem is read-only, and most runtimes and
   * libraries write temporary files there.
   *
   * @default true
   */
  readonly writableTmp?: boolean;

  /**
   * The container's working directory, made writable with an emptyDir mounted there. The
   * emptyDir hides whatever the image holds at that path, so choose a directory the image leaves
   * empty (e.g. `/work`) and keep the program elsewhere.
   *
   * @default - the image's working directory, read-only like the rest of the root filesystem
   */
  readonly workingDir?: string;

  /**
   * More volumes, each with the directory the container mounts it at.
   *
   * @default - none
   */
  readonly volumes?: WorkloadVolume[];

  /**
   * Names of Secrets (of type `kubernetes.io/dockerconfigjson`) the kubelet pulls the image with.
   *
   * @default - none
   */
  readonly imagePullSecrets?: string[];

  /**
   * Node labels a node must carry to run the pod.
   *
   * @default - any node
   */
  readonly nodeSelector?: { [label: string]: string };

  /**
   * Tolerations of node taints.
   *
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];

  /**
   * Node and pod affinity and anti-affinity.
   *
   * @default - none
   */
  readonly affinity?: k8s.Affinity;

  /**
   * The value of the `app.kubernetes.io/part-of` label: the larger application the workload
   * belongs to.
   *
   * @default - the domain name
   */
  readonly partOf?: string;

  /**
   * Labels of the workload object (the Job, CronJob, Deployment, StatefulSet or DaemonSet). They may override the
   * `app.kubernetes.io/*` labels; `floe.dev/*` keys are the library's own.
   *
   * @default - only the `app.kubernetes.io/*` labels
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations of the workload object. `floe.dev/*` keys are the library's own.
   *
   * @default - none
   */
  readonly annotations?: { [key: string]: string };

  /**
   * Labels of the pod template. They may override the `app.kubernetes.io/*` labels; `floe.dev/*`
   * keys are the library's own. A Job's template is immutable: change them with care.
   *
   * @default - the `app.kubernetes.io/*` labels and `floe.dev/domain`, `floe.dev/workload`
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations of the pod template (see {@link SecretWorkload.addPodAnnotation}). Put here only
   * what the pod needs at runtime: a Job's template is immutable.
   *
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
}

/** What a concrete workload tells its base class, {@link SecretWorkload}. */
export interface WorkloadKind {
  /** `Job`, `CronJob`, `Deployment`, `StatefulSet`, `DaemonSet`. */
  readonly kind: string;
  /** The `app.kubernetes.io/component` label: `job`, `cronjob`, `deployment`, `statefulset`, `daemonset`. */
  readonly component: string;
  /**
   * The longest name that works for this kind: what the apiserver accepts, and what the labels
   * and names the controllers derive from it leave room for.
   */
  readonly maxNameLength: number;
  /** The pod restart policy. */
  readonly restartPolicy: 'Never' | 'Always';
}
