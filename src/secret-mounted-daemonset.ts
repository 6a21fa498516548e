import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LongRunningSecretWorkload, LongRunningSecretWorkloadProps } from './internal/long-running';
import { requireProps } from './internal/runtime-props';
import { childPath } from './internal/validation';

/**
 * The longest DaemonSet name: the apiserver accepts up to 253 characters, but the name is also
 * the value of the pods' `app.kubernetes.io/name` and `floe.dev/workload` labels, and a label
 * value is at most 63 characters. (The DaemonSet controller names pods `<name>-<random>`, cut to
 * fit, and its `controller-revision-hash` label holds the hash alone, so neither limits it further.)
 */
export const MAX_DAEMONSET_NAME_LENGTH = 63;

/** Properties of a {@link SecretMountedDaemonSet}: those every long-running workload has. */
export interface SecretMountedDaemonSetProps extends LongRunningSecretWorkloadProps {}

/**
 * A DaemonSet, one pod on each node its `nodeSelector`, `affinity` and `tolerations` let it run
 * on, that reads secrets like {@link SecretMountedDeployment}: env vars, envFrom and read-only
 * files, its own ServiceAccount and a name-scoped Role, ports (never `hostPort`) and probes, and
 * `secrets.infisical.com/auto-reload: "true"` on its own metadata when it reads a Secret managed
 * by an Infisical source (the operator then restarts its pods when the Secret changes).
 */
export class SecretMountedDaemonSet extends LongRunningSecretWorkload {
  /** The DaemonSet (construct id `Resource`). */
  public readonly resource: k8s.KubeDaemonSet;

  public constructor(scope: Construct, id: string, props: SecretMountedDaemonSetProps) {
    requireProps(childPath(scope, id), props, "{ image: 'ghcr.io/acme/node-agent:1.0.0' }");
    super(scope, id, props, { kind: 'DaemonSet', component: 'daemonset', maxNameLength: MAX_DAEMONSET_NAME_LENGTH, restartPolicy: 'Always' });
    this.resource = new k8s.KubeDaemonSet(this, 'Resource', {
      metadata: this.renderWorkloadMetadata(),
      spec: {
        selector: { matchLabels: this.selectorLabels() },
        template: Lazy.any({ produce: () => this.renderPodTemplate() }),
      },
    });
    this.resourceCreated();
  }
}
