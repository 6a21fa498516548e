import { Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LongRunningSecretWorkload, LongRunningSecretWorkloadProps } from './internal/long-running';
import { childPath, constructError, quote } from './internal/validation';
import { checkStatefulSetProps } from './internal/workload-props';

/**
 * The longest StatefulSet name whose pods the controller can create. The controller labels each
 * pod `controller-revision-hash: <name>-<hash>` (a hash of up to 10 characters), and a label value
 * is at most 63 characters, so a longer name passes the apiserver but no pod is ever created:
 * 63 - 1 - 10 = 52 (kubernetes/kubernetes#64023). The pod names and hostnames, `<name>-<ordinal>`,
 * stay within 63 as well.
 */
export const MAX_STATEFULSET_NAME_LENGTH = 52;

/** Properties of a {@link SecretMountedStatefulSet}. */
export interface SecretMountedStatefulSetProps extends LongRunningSecretWorkloadProps {
  /**
   * Number of pods, `<name>-0` to `<name>-<replicas - 1>`.
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * The name of an existing headless Service in the workload's namespace that governs the
   * StatefulSet (its pods get the DNS names `<pod>.<serviceName>`); no Service is made then. The
   * apiserver refuses to change it once the StatefulSet exists.
   *
   * @default - a headless Service (`clusterIP: None`) named like the StatefulSet is made, selecting
   * its pods, with the container's ports and the workload's labels
   */
  readonly serviceName?: string;

  /**
   * Whether pods start and stop one at a time, in order, or all at once. The apiserver refuses to
   * change it once the StatefulSet exists.
   *
   * @default kplus.PodManagementPolicy.ORDERED_READY (the Kubernetes default; not written)
   */
  readonly podManagementPolicy?: kplus.PodManagementPolicy;
}

/**
 * A StatefulSet that reads secrets like {@link SecretMountedDeployment}: env vars, envFrom and
 * read-only files, its own ServiceAccount and a name-scoped Role, ports and probes, and
 * `secrets.infisical.com/auto-reload: "true"` on its own metadata when it reads a Secret managed
 * by an Infisical source (the operator then restarts its pods when the Secret changes).
 *
 * It makes the headless Service that governs it unless given `serviceName`. Names are at most
 * 52 characters (see {@link MAX_STATEFULSET_NAME_LENGTH}). Volume claim templates are not made;
 * mount an existing claim through `volumes`, or add them and the container's mounts with a JSON
 * patch (`ApiObject.of(statefulSet).addJsonPatch(...)`), giving values in the form of the
 * `k8s.KubeStatefulSet` props (a storage request as `k8s.Quantity.fromString('1Gi')`: cdk8s
 * converts patched values like the props, and drops a plain string there).
 */
export class SecretMountedStatefulSet extends LongRunningSecretWorkload {
  /** The StatefulSet (construct id `Resource`). */
  public readonly resource: k8s.KubeStatefulSet;
  /** Number of pods. */
  public readonly replicas: number;
  /** The name of the Service that governs the StatefulSet. */
  public readonly serviceName: string;
  /** The headless Service it made (construct id `Service`), unless given `serviceName`. */
  public readonly service?: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: SecretMountedStatefulSetProps) {
    checkStatefulSetProps(childPath(scope, id), props);
    super(scope, id, props, { kind: 'StatefulSet', component: 'statefulset', maxNameLength: MAX_STATEFULSET_NAME_LENGTH, restartPolicy: 'Always' });
    this.replicas = props.replicas ?? 1;
    this.serviceName = props.serviceName ?? this.workloadName;
    if (props.serviceName === undefined) {
      if (!/^[a-z]/.test(this.workloadName)) {
        throw constructError(
          this,
          `the default name ${quote(this.workloadName)} starts with a digit, but the headless Service named like the StatefulSet needs a name starting with a letter`,
          'give a name starting with a letter, or pass serviceName to use a Service of your own',
        );
      }
      this.domain._claimName(this, 'Service', this.serviceName);
      this.service = new k8s.KubeService(this, 'Service', {
        metadata: { name: this.serviceName, labels: this.renderWorkloadMetadata().labels }, // the StatefulSet's labels
        spec: {
          clusterIp: 'None',
          selector: this.selectorLabels(),
          ports: props.ports?.map((port) => ({
            name: port.name,
            port: port.containerPort,
            targetPort: k8s.IntOrString.fromNumber(port.containerPort),
            protocol: port.protocol,
          })),
        },
      });
    }
    this.resource = new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: this.renderWorkloadMetadata(),
      spec: {
        replicas: this.replicas,
        serviceName: this.serviceName,
        podManagementPolicy: props.podManagementPolicy,
        selector: { matchLabels: this.selectorLabels() },
        template: Lazy.any({ produce: () => this.renderPodTemplate() }),
      },
    });
    this.resourceCreated();
  }
}
