import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { IFloeSecret } from './floe-secret';
import { optionalBoolean, optionalNumber, requireProps } from './internal/runtime-props';
import { childPath, constructError, quote } from './internal/validation';
import { checkDeploymentProps } from './internal/workload-props';
import { INFISICAL_AUTO_RELOAD_ANNOTATION } from './secret-mounted-job';
import { SecretWorkload, SecretWorkloadProps } from './secret-workload';

/** Properties of a {@link SecretMountedDeployment}. */
export interface SecretMountedDeploymentProps extends SecretWorkloadProps {
  /**
   * Number of pods.
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Whether the Deployment carries `secrets.infisical.com/auto-reload: "true"`, so that the
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
 * A long-running Deployment that reads secrets like {@link SecretMountedJob}: env vars, envFrom
 * and read-only files, its own ServiceAccount and a name-scoped Role.
 *
 * When it consumes a Secret managed by an Infisical source it carries
 * `secrets.infisical.com/auto-reload: "true"` on its own metadata, the one place the operator
 * reads it: the operator then rolls the Deployment when the Secret changes, so env vars pick up
 * the new value too. Mounted files refresh in place either way.
 */
export class SecretMountedDeployment extends SecretWorkload {
  /** The Deployment (construct id `Resource`). */
  public readonly resource: k8s.KubeDeployment;
  /** Number of pods. */
  public readonly replicas: number;

  private readonly autoReloadProp?: boolean;
  private readonly deploymentProps: SecretMountedDeploymentProps;
  private reloads = false;

  public constructor(scope: Construct, id: string, props: SecretMountedDeploymentProps) {
    requireProps(childPath(scope, id), props, "{ image: 'ghcr.io/acme/api:2.0.1' }");
    optionalNumber(childPath(scope, id), 'replicas', props.replicas, 'pass a whole number of pods');
    optionalBoolean(childPath(scope, id), 'autoReload', props.autoReload, 'pass true or false');
    checkDeploymentProps(childPath(scope, id), props);
    const replicas = props.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw constructError(childPath(scope, id), `replicas ${quote(props.replicas)} is not a non-negative integer`, 'pass a whole number of pods');
    }
    super(scope, id, props, { kind: 'Deployment', component: 'deployment', maxNameLength: 253, restartPolicy: 'Always' });
    this.replicas = replicas;
    this.deploymentProps = props;
    this.autoReloadProp = props.autoReload;
    this.resource = new k8s.KubeDeployment(this, 'Resource', {
      metadata: this.renderWorkloadMetadata(),
      spec: {
        replicas,
        selector: { matchLabels: this.selectorLabels() },
        template: Lazy.any({ produce: () => this.renderPodTemplate() }),
      },
    });
    if (this.autoReloadProp === true) this.enableAutoReload();
    for (const secret of this.secretsRead) this.onSecretUsed(secret);
    this.node.addValidation({ validate: () => this.validateRotation() });
  }

  /** Whether the Deployment carries the operator's auto-reload annotation. */
  public get autoReload(): boolean {
    return this.reloads;
  }

  /** @internal */
  protected onSecretUsed(secret: IFloeSecret): void {
    // Runs for the secrets in props before this constructor has created the Deployment; the
    // constructor replays them once it has.
    if (this.resource === undefined || this.autoReloadProp === false) return;
    if (secret.source?.restartsWorkloads) this.enableAutoReload();
  }

  /** @internal */
  protected containerExtras(): Partial<k8s.Container> {
    const { ports, livenessProbe, readinessProbe, startupProbe } = this.deploymentProps;
    return { ports, livenessProbe, readinessProbe, startupProbe };
  }

  /** @internal */
  protected get maxRunSeconds(): number | undefined {
    return undefined;
  }

  public get runsToCompletion(): boolean {
    return false;
  }

  private enableAutoReload(): void {
    if (this.reloads) return;
    this.reloads = true;
    ApiObject.of(this.resource).metadata.addAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true');
  }
}
