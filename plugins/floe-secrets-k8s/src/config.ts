/**
 * Configuration of the {@link K8sSecretsPlugin}: where it finds the cluster. No credential appears
 * here: they stay in the kubeconfig or the pod. Unknown fields are refused.
 */
export interface K8sSecretsConfig {
  /**
   * The namespace whose Secrets the plugin reads and writes: a DNS label of at most 63 characters.
   *
   * @default floe-jobs
   * @requirement REQ-134 (Kubernetes Secrets as a backend)
   */
  readonly namespace?: string;
  /**
   * A kubeconfig file (at most 4 MiB).
   *
   * @default - in-cluster config when running in a pod, else $KUBECONFIG or ~/.kube/config
   */
  readonly kubeconfig?: string;
  /**
   * The kubeconfig context. One it does not have is a SecretsConfigError listing those it has.
   *
   * @default - the kubeconfig's current context
   */
  readonly context?: string;
}
