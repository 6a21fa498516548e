import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { IFloeSecret } from '../floe-secret';
import { INFISICAL_AUTO_RELOAD_ANNOTATION } from '../secret-mounted-job';
import { SecretWorkload } from '../secret-workload';
import { SecretWorkloadProps, WorkloadKind } from '../secret-workload-props';
import { childPath } from './validation';
import { checkLongRunningProps } from './workload-props';

/**
 * Properties the long-running workloads share: {@link SecretMountedDeployment},
 * {@link SecretMountedStatefulSet} and {@link SecretMountedDaemonSet}.
 */
export interface LongRunningSecretWorkloadProps extends SecretWorkloadProps {
  /**
   * Whether the workload carries `secrets.infisical.com/auto-reload: "true"`, so that the
   * Infisical operator restarts it when a Secret it consumes changes.
   *
   * @default - true as soon as it reads a Secret whose source restarts workloads (Infisical)
   * @requirement REQ-133
   * @requirement REQ-138
   */
  readonly autoReload?: boolean;

  /**
   * The container's ports. `hostPort` is refused (Pod Security "restricted" forbids it): reach
   * the pods through a Service.
   *
   * @default - none
   */
  readonly ports?: k8s.ContainerPort[];

  /**
   * When the kubelet restarts the container.
   *
   * @default - none: the container restarts only when it exits
   */
  readonly livenessProbe?: k8s.Probe;

  /**
   * When the pod receives traffic from Services.
   *
   * @default - none: ready as soon as the container has started
   */
  readonly readinessProbe?: k8s.Probe;

  /**
   * What the container must pass before the liveness and readiness probes start.
   *
   * @default - none
   */
  readonly startupProbe?: k8s.Probe;
}

/**
 * The behaviour the long-running workloads (Deployment, StatefulSet, DaemonSet) share: ports and
 * probes on the container, no rotation deadline, and the Infisical operator's auto-reload.
 *
 * When the workload consumes a Secret managed by an Infisical source it carries
 * `secrets.infisical.com/auto-reload: "true"` on its own metadata, the one place the operator
 * reads it (the operator honours it on Deployments, StatefulSets and DaemonSets): the operator
 * then restarts the workload when the Secret changes, so env vars pick up the new value too.
 * Mounted files refresh in place either way.
 */
export abstract class LongRunningSecretWorkload extends SecretWorkload {
  private readonly longRunningProps: LongRunningSecretWorkloadProps;
  // Both are still undefined while the SecretWorkload constructor reads the secrets of the props.
  private watching = false;
  private reloads = false;

  protected constructor(scope: Construct, id: string, props: LongRunningSecretWorkloadProps, kind: WorkloadKind) {
    checkLongRunningProps(childPath(scope, id), props);
    super(scope, id, props, kind);
    this.longRunningProps = props;
    this.node.addValidation({ validate: () => this.validateRotation() });
  }

  /** Whether the workload carries the operator's auto-reload annotation. */
  public get autoReload(): boolean {
    return this.reloads;
  }

  public get runsToCompletion(): boolean {
    return false;
  }

  /**
   * Call once, right after creating `resource`: applies `autoReload: true`, and the secrets read so
   * far (those of the props were read before the resource existed). From then on every secret the
   * workload starts to use is looked at as it is added.
   *
   * @internal
   */
  protected resourceCreated(): void {
    this.watching = true;
    if (this.longRunningProps.autoReload === true) this.enableAutoReload();
    for (const secret of this.secretsRead) this.onSecretUsed(secret);
  }

  /** @internal */
  protected onSecretUsed(secret: IFloeSecret): void {
    if (!this.watching || this.longRunningProps.autoReload === false) return;
    if (secret.source?.restartsWorkloads) this.enableAutoReload();
  }

  /** @internal */
  protected containerExtras(): Partial<k8s.Container> {
    const { ports, livenessProbe, readinessProbe, startupProbe } = this.longRunningProps;
    return { ports, livenessProbe, readinessProbe, startupProbe };
  }

  /** @internal */
  protected get maxRunSeconds(): number | undefined {
    return undefined;
  }

  private enableAutoReload(): void {
    if (this.reloads) return;
    this.reloads = true;
    ApiObject.of(this.resource).metadata.addAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true');
  }
}
