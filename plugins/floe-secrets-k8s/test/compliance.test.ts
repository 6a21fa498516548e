import { randomBytes } from 'node:crypto';
import { describeSecretsPluginCompliance } from '@floe-secrets/core';
import { TestCluster } from '../../../test/integration/cluster';
import { K8sSecretsPlugin } from '../src';
import { ClusterIdentities } from './cluster-identities';

// The seed's BaseSecretsPluginTests against a real kube-apiserver (RBAC, token auth): `writer` may
// read and write Secrets of its namespace, `nobody` may do nothing.
const NAMESPACE = 'floe-compliance';
const run = randomBytes(4).toString('hex');
let cluster: TestCluster;
let identities: ClusterIdentities;

beforeAll(() => {
  cluster = TestCluster.start();
  identities = new ClusterIdentities(cluster);
  identities.setUp(NAMESPACE);
}, 120_000);

afterAll(() => cluster?.stop());

describeSecretsPluginCompliance({
  name: 'k8s (real kube-apiserver)',
  prefix: `compliance-${run}/`,
  key: (suffix) => `compliance-${run}/${suffix}`,
  plugin: async (options) => new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, 'writer') }, options),
  unauthorizedPlugin: async (options) => new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, 'nobody') }, options),
  unreachablePlugin: async (address, options) =>
    new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, 'writer', `https://${address}`) }, options),
});
