/**
 * Runtime-plugin latency (issue 4): cached and uncached getSecret, and healthCheck against an
 * address that never answers. Against the local Infisical and Vault test servers and the real
 * kube-apiserver of the test suite. Run by `npm run bench` (jest, outside the test suite).
 */
import { randomBytes } from 'node:crypto';
import { SecretsPlugin, silentServer } from '@floe-secrets/core';
import { InfisicalSecretsPlugin } from '@floe-secrets/infisical';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { VaultSecretsPlugin } from '@floe-secrets/vault';
import { InfisicalTestServer } from '../plugins/floe-secrets-infisical/test/infisical-test-server';
import { ClusterIdentities } from '../plugins/floe-secrets-k8s/test/cluster-identities';
import { VaultTestServer } from '../plugins/floe-secrets-vault/test/vault-test-server';
import { TestCluster } from '../test/integration/cluster';

const rows: string[] = [];

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

async function measureGets(label: string, plugin: SecretsPlugin, key: string, calls: number): Promise<void> {
  await time(20, () => plugin.getSecret(key)); // login and warm-up
  const samples = await time(calls, () => plugin.getSecret(key));
  rows.push(`| ${label} | ${calls} | ${percentile(samples, 50).toFixed(3)} | ${percentile(samples, 99).toFixed(3)} |`);
}

async function measureHealth(label: string, make: (address: string) => SecretsPlugin | Promise<SecretsPlugin>): Promise<void> {
  const silent = await silentServer();
  try {
    const plugin = await make(silent.address);
    const started = Date.now();
    const status = await plugin.healthCheck();
    rows.push(`| ${label}: healthCheck, address never answers (${status.state}) | 1 | ${(Date.now() - started).toFixed(0)} | |`);
  } finally {
    await silent.close();
  }
}

afterAll(() => {
  process.stdout.write(['', '| measurement | calls | p50 ms | p99 ms |', '|---|---:|---:|---:|', ...rows, ''].join('\n'));
});

test('infisical: cached and uncached getSecret, health', async () => {
  const who = { clientId: 'bench', clientSecret: randomBytes(24).toString('base64url'), access: 'read-write' as const };
  const server = await InfisicalTestServer.start({ identities: [who] });
  try {
    server.seed('dev', '/bench/db', 'password', randomBytes(12).toString('hex'));
    const config = { siteUrl: server.url, clientId: who.clientId, clientSecret: who.clientSecret, projectId: server.projectId, environment: 'dev', secretPath: '/bench' };
    await measureGets('infisical: cached getSecret', new InfisicalSecretsPlugin(config), 'db/password', 10_000);
    await measureGets('infisical: uncached getSecret (local test server)', new InfisicalSecretsPlugin({ ...config, cacheTtlMs: 0 }), 'db/password', 200);
    await measureHealth('infisical', (address) => new InfisicalSecretsPlugin({ ...config, siteUrl: `http://${address}` }));
  } finally {
    await server.close();
  }
}, 120_000);

test('vault: uncached getSecret, health', async () => {
  const vault = await VaultTestServer.start();
  try {
    vault.setPolicy('rw', { 'secret/data/*': ['read'] });
    vault.put('compute/snowflake', { password: randomBytes(12).toString('hex') });
    const { token } = vault.createToken({ policies: ['rw'] });
    await measureGets('vault: getSecret (local test server, no cache)', new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }), 'compute/snowflake/password', 200);
    await measureHealth('vault', (address) => new VaultSecretsPlugin({ address: `http://${address}`, auth: { method: 'token', token } }));
  } finally {
    await vault.close();
  }
}, 120_000);

test('k8s: getSecret against the real kube-apiserver, health', async () => {
  const cluster = TestCluster.start();
  try {
    const identities = new ClusterIdentities(cluster);
    identities.setUp('floe-bench');
    const kubeconfig = await identities.kubeconfig('floe-bench', 'writer');
    const plugin = new K8sSecretsPlugin({ namespace: 'floe-bench', kubeconfig });
    await plugin.setSecret('db/password', randomBytes(12).toString('hex'));
    await measureGets('k8s: getSecret (real kube-apiserver, no cache)', plugin, 'db/password', 200);
    await measureHealth('k8s', async (address) =>
      new K8sSecretsPlugin({ namespace: 'floe-bench', kubeconfig: await identities.kubeconfig('floe-bench', 'writer', `https://${address}`) }));
  } finally {
    cluster.stop();
  }
}, 180_000);
