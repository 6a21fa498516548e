import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster } from '../../../test/integration/cluster';

/**
 * ServiceAccounts of the real test apiserver as the K8s plugin sees them: a kubeconfig file per
 * identity, with a real TokenRequest token and the server's CA.
 */
export class ClusterIdentities {
  public constructor(private readonly cluster: TestCluster) {}

  /**
   * Creates `namespace` with a ServiceAccount `writer` allowed get/list/create/update on its
   * Secrets, `reader` allowed get only, and `nobody` allowed nothing.
   */
  public setUp(namespace: string): void {
    this.cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'writer', namespace } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'secrets-reader', namespace },
          rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'secrets-reader', namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secrets-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'secrets-writer', namespace },
          rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'secrets-writer', namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secrets-writer' },
          subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace }],
        },
      ],
    }));
  }

  /** A kubeconfig file that authenticates as `namespace/serviceAccount` against `server` (default: the test cluster). */
  public async kubeconfig(namespace: string, serviceAccount: string, server: string = this.cluster.url): Promise<string> {
    const token = await this.cluster.serviceAccountToken(namespace, serviceAccount);
    const file = join(this.cluster.dir, `kubeconfig-${namespace}-${serviceAccount}-${server.replace(/\W/g, '')}`);
    writeFileSync(file, JSON.stringify({
      'apiVersion': 'v1',
      'kind': 'Config',
      'clusters': [{ name: 'test', cluster: { 'server': server, 'certificate-authority': join(this.cluster.dir, 'certs', 'apiserver.crt') } }],
      'users': [{ name: `system:serviceaccount:${namespace}:${serviceAccount}`, user: { token } }],
      'contexts': [{ name: 'test', context: { cluster: 'test', user: `system:serviceaccount:${namespace}:${serviceAccount}` } }],
      'current-context': 'test',
    }), { mode: 0o600 });
    return file;
  }
}
