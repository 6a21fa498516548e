import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LongRunningSecretWorkload, LongRunningSecretWorkloadProps } from './internal/long-running';
import { requireProps } from './internal/runtime-props';
import { childPath } from './internal/validation';
import { checkReplicas } from './internal/workload-props';

/** Properties of a {@link SecretMountedDeployment}. */
export interface SecretMountedDeploymentProps extends LongRunningSecretWorkloadProps {
  /**
   * Number of pods.
   *
   * @default 1
   */
  readonly replicas?: number;
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
export class SecretMountedDeployment extends LongRunningSecretWorkload {
  /** The Deployment (construct id `Resource`). */
  public readonly resource: k8s.KubeDeployment;
  /** Number of pods. */
  public readonly replicas: number;

  public constructor(scope: Construct, id: string, props: SecretMountedDeploymentProps) {
    requireProps(childPath(scope, id), props, "{ image: 'ghcr.io/acme/api:2.0.1' }");
    checkReplicas(childPath(scope, id), props.replicas);
    // The apiserver takes 253 characters, but the name is also the value of the pods'
    // app.kubernetes.io/name and floe.dev/workload labels, and a label value is at most 63.
    super(scope, id, props, { kind: 'Deployment', component: 'deployment', maxNameLength: 63, restartPolicy: 'Always' });
    this.replicas = props.replicas ?? 1;
    this.resource = new k8s.KubeDeployment(this, 'Resource', {
      metadata: this.renderWorkloadMetadata(),
      spec: {
        replicas: this.replicas,
        selector: { matchLabels: this.selectorLabels() },
        template: Lazy.any({ produce: () => this.renderPodTemplate() }),
      },
    });
    this.resourceCreated();
  }
}
