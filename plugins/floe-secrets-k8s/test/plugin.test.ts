import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ConnectionError, loadSecretsPlugin, NotImplementedError, PermissionError, randomSecret, SecretsConfigError, silentServer,
} from '@floe-secrets/core';
import { TestCluster } from '../../../test/integration/cluster';
import { K8sSecretsPlugin } from '../src';
import { ClusterIdentities } from './cluster-identities';

const NAMESPACE = 'floe-k8s-plugin';
let cluster: TestCluster;
let identities: ClusterIdentities;
let writer: string;

beforeAll(async () => {
  cluster = TestCluster.start();
  identities = new ClusterIdentities(cluster);
  identities.setUp(NAMESPACE);
  identities.setUp('floe-other');
  writer = await identities.kubeconfig(NAMESPACE, 'writer');
}, 120_000);

afterAll(() => cluster?.stop());

describe('K8sSecretsPlugin on a real kube-apiserver', () => {
  test('reads a Secret created with kubectl, key by key and whole (multi-key)', async () => {
    // GIVEN a Secret the platform team created by hand (REQ-134)
    const user = randomSecret();
    const password = randomSecret();
    // Values through stdin, never argv, as a platform engineer should.
    cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: NAMESPACE }, stringData: { user, password },
    }));
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });

    // THEN
    await expect(plugin.getSecret('db-creds/password')).resolves.toBe(password);
    await expect(plugin.getSecret('db-creds/nope')).resolves.toBeUndefined();
    await expect(plugin.getMultiKeySecret('db-creds')).resolves.toEqual({ user, password });
    await expect(plugin.listSecrets('db-creds/')).resolves.toEqual(['db-creds/password', 'db-creds/user']);
  });

  test('a read never creates anything', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });
    await expect(plugin.getSecret('never-created/key')).resolves.toBeUndefined();
    await expect(plugin.getMultiKeySecret('never-created')).resolves.toEqual({});
    expect(cluster.kubectl(['get', 'secret', 'never-created', '-n', NAMESPACE]).status).not.toBe(0);
  });

  test('set records metadata as annotations and keeps the other keys', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });
    await plugin.setSecret('app/a', 'one', { owner: 'data-team' });
    await plugin.setSecret('app/b', 'two');
    const stored = JSON.parse(cluster.kubectlOk(['get', 'secret', 'app', '-n', NAMESPACE, '-o', 'json']));
    expect(Object.keys(stored.data).sort()).toEqual(['a', 'b']);
    expect(stored.metadata.annotations['floe.dev/owner']).toBe('data-team');
  });

  test('access outside the plugin\'s namespace is a PermissionError that says what to grant', async () => {
    cluster.kubectlOk(['create', 'secret', 'generic', 'theirs', '-n', 'floe-other', '--from-literal=k=v']);
    const plugin = new K8sSecretsPlugin({ namespace: 'floe-other', kubeconfig: writer });
    const error = await plugin.getSecret('theirs/k').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as Error).message).toBe(
      'k8s: system:serviceaccount:floe-k8s-plugin:writer may not get secret "theirs" in namespace floe-other (HTTP 403); ' +
        'grant the verb(s) get on secrets in that namespace with a Role, or use a key of a Secret it may read',
    );
  });

  test('health is unhealthy for a ServiceAccount with no rights on secrets: it names the namespace, the missing verbs and the Role to grant', async () => {
    // GIVEN a ServiceAccount with a valid token but no Role
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, 'nobody') });

    // WHEN
    const health = await plugin.healthCheck();

    // THEN
    expect(health.state).toBe('unhealthy');
    expect(health.message).toBe(
      `PermissionError: k8s: system:serviceaccount:${NAMESPACE}:nobody may not get secrets in namespace ${NAMESPACE}; ` +
        'missing verbs on secrets there: get, list, create, update. Grant them with a Role bound to it: ' +
        `kubectl create role floe-secrets -n ${NAMESPACE} --resource=secrets --verb=get,list,create,update && ` +
        `kubectl create rolebinding floe-secrets -n ${NAMESPACE} --role=floe-secrets --serviceaccount=${NAMESPACE}:nobody`,
    );
    expect(health.durationMs).toBeLessThan(5_000);
  });

  test('health is unhealthy for a ServiceAccount whose Role is for another namespace', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: 'floe-other', kubeconfig: writer });
    const health = await plugin.healthCheck();
    expect(health.state).toBe('unhealthy');
    expect(health.message).toMatch(/may not get secrets in namespace floe-other; missing verbs on secrets there: get, list, create, update\. /);
  });

  test('health is healthy with a Role granting get, list, create and update on secrets, and with get alone (a read-only workload)', async () => {
    for (const serviceAccount of ['writer', 'reader']) {
      const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, serviceAccount) });
      await expect(plugin.healthCheck()).resolves.toEqual({ state: 'healthy', durationMs: expect.any(Number) });
    }
  });

  test('hasApiResource: API discovery of a group version; an unknown group or resource is false', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });
    await expect(plugin.hasApiResource('rbac.authorization.k8s.io', 'v1', 'roles')).resolves.toBe(true);
    await expect(plugin.hasApiResource('rbac.authorization.k8s.io', 'v1', 'no-such-things')).resolves.toBe(false);
    await expect(plugin.hasApiResource('secrets.infisical.com', 'v1alpha1', 'infisicalsecrets')).resolves.toBe(false);
  });

  test('hasApiResource: an address that never answers is a ConnectionError within its 9 s bound', async () => {
    const silent = await silentServer();
    try {
      const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: await identities.kubeconfig(NAMESPACE, 'writer', `https://${silent.address}`) });
      const started = Date.now();
      await expect(plugin.hasApiResource('rbac.authorization.k8s.io', 'v1', 'roles')).rejects.toBeInstanceOf(ConnectionError);
      expect(Date.now() - started).toBeLessThan(12_000);
    } finally {
      await silent.close();
    }
  }, 30_000);

  test('keys must be <secret>/<key>', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });
    for (const key of ['no-slash', 'a/b/c', 'Bad_Name/k', 'db/bad key']) {
      await expect(plugin.getSecret(key)).rejects.toThrow(`k8s: key ${JSON.stringify(key)} is not "<secret>/<key>" with a valid Secret name and data key; write it like "db-creds/password"`);
    }
    await expect(plugin.getMultiKeySecret('a/b')).rejects.toBeInstanceOf(SecretsConfigError);
  });

  test('the requester in audit events is the kubeconfig user', () => {
    expect(new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer }).requester).toBe('system:serviceaccount:floe-k8s-plugin:writer');
  });

  test('discovery builds it by name from plain config', () => {
    const plugin = loadSecretsPlugin('k8s', { namespace: NAMESPACE, kubeconfig: writer }, undefined, resolve(__dirname, '../../..'));
    expect(plugin).toBeInstanceOf(K8sSecretsPlugin);
    expect((plugin as K8sSecretsPlugin).namespace).toBe(NAMESPACE);
  });
});

describe('K8sSecretsPlugin configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'floe-k8s-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('the namespace defaults to floe-jobs', () => {
    expect(new K8sSecretsPlugin({ kubeconfig: writer }).namespace).toBe('floe-jobs');
  });

  test.each([
    [{ namespace: 'Floe_Jobs' }, /k8s: invalid configuration:\n {2}namespace: /],
    [{ token: 'abc' }, /unknown field\(s\) token; remove them/],
    [{ kubeconfig: '/no/such/file' }, 'k8s: could not load the cluster configuration (Error); check the kubeconfig path and context'],
  ])('refuses %j', (config, message) => {
    expect(() => new K8sSecretsPlugin(config)).toThrow(message);
  });

  test('a kubeconfig with no cluster is refused; credentials in it are never echoed', () => {
    const token = randomSecret();
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Config', users: [{ name: 'u', user: { token } }], contexts: [], clusters: [] }));
    const error = (() => {
      try {
        return new K8sSecretsPlugin({ kubeconfig: file });
      } catch (e) {
        return e as Error;
      }
    })() as Error;
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toBe('k8s: no cluster in the kubeconfig; set kubeconfig (or $KUBECONFIG) to a file with a current context');
    expect(`${error.message}${error.stack}`).not.toContain(token);
  });

  test('multi-key is implemented (not the NotImplementedError default)', async () => {
    const plugin = new K8sSecretsPlugin({ namespace: NAMESPACE, kubeconfig: writer });
    await expect(plugin.getMultiKeySecret('nothing-here')).resolves.not.toBeInstanceOf(NotImplementedError);
  });
});
