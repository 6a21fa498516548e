import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  AuditAction, checkKey, ConnectionError, DEFAULT_RETRY_POLICY, dnsSubdomainProblem, KeyRules, parseConfig, PermissionError, PluginOptions,
  SecretsConfigError, SecretsError, SecretsPlugin, secretKeyProblem, withRetry,
} from '@floe-secrets/core';
import type * as K8s from '@kubernetes/client-node';
import { z } from 'zod';

// @kubernetes/client-node 1.x is ESM-only. Node 20.19+ loads ESM through require(). Taking Node's
// own require from process.getBuiltinModule (rather than the module-scoped one, which test runners
// and bundlers replace with loaders that cannot load ESM) keeps this package CommonJS without
// pinning the client to an old major.
const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
const k8s = nodeModule.createRequire(__filename)('@kubernetes/client-node') as typeof K8s;

/** Where the plugin finds the cluster. */
const configSchema = z.strictObject({
  /** The namespace whose Secrets the plugin reads and writes (REQ-134). */
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63).default('floe-jobs'),
  /** A kubeconfig file; default: in-cluster config when running in a pod, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig: z.string().min(1).optional(),
  /** The kubeconfig context; default: its current context. */
  context: z.string().min(1).optional(),
});

/** Configuration of the {@link K8sSecretsPlugin}. No credential appears here: they stay in the kubeconfig or the pod. */
export type K8sSecretsConfig = z.input<typeof configSchema>;

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Kubernetes Secrets as a floe secrets backend (REQ-134): no external service, Secrets created by
 * the platform team (`kubectl create secret`). Keys are `<secret>/<key>`: `db-creds/password` is
 * key `password` of Secret `db-creds` in the configured namespace (default `floe-jobs`). The
 * cluster is found automatically: in-cluster config inside a pod, else the kubeconfig.
 *
 * Reads never create anything. `setSecret` creates the Secret or updates the key, with optimistic
 * concurrency. Access the RBAC of the identity does not allow is a {@link PermissionError} that
 * names the namespace, the Secret and the verb to grant.
 */
export class K8sSecretsPlugin extends SecretsPlugin {
  public readonly name = 'k8s';
  public readonly version = '0.1.0';
  /** The namespace the plugin works in. */
  public readonly namespace: string;
  protected readonly keyRules: KeyRules = { allowSlash: true };
  private readonly api: K8s.CoreV1Api;
  private readonly versionApi: K8s.VersionApi;
  private readonly kc: K8s.KubeConfig;
  private readonly identity: string;

  public constructor(config: unknown = {}, options: PluginOptions = {}) {
    super(options);
    const parsed = parseConfig('k8s', configSchema, config);
    this.namespace = parsed.namespace;
    const kc = new k8s.KubeConfig();
    try {
      if (parsed.kubeconfig) kc.loadFromFile(parsed.kubeconfig);
      else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
      else kc.loadFromDefault();
      if (parsed.context) kc.setCurrentContext(parsed.context);
    } catch (error) {
      throw new SecretsConfigError(`k8s: could not load the cluster configuration (${(error as Error).name}); check the kubeconfig path and context`, 'k8s');
    }
    if (!kc.getCurrentCluster()) {
      throw new SecretsConfigError('k8s: no cluster in the kubeconfig; set kubeconfig (or $KUBECONFIG) to a file with a current context', 'k8s');
    }
    this.identity = kc.getCurrentUser()?.name ?? 'unknown';
    this.api = kc.makeApiClient(k8s.CoreV1Api);
    this.versionApi = kc.makeApiClient(k8s.VersionApi);
    this.kc = kc;
  }

  /**
   * Whether the cluster serves resource `plural` in API group `group`, version `version` (e.g. an
   * operator's CRD: `secrets.infisical.com`, `v1alpha1`, `infisicalsecrets`), by API discovery
   * (`GET /apis/<group>/<version>`). A group version the server does not know is `false`. Each
   * attempt is aborted (its connection closed) after 4.5 s; 9 s in all.
   *
   * @throws PermissionError when discovery is refused (HTTP 401/403)
   * @throws ConnectionError when the cluster cannot be reached
   */
  public async hasApiResource(group: string, version: string, plural: string): Promise<boolean> {
    const what = `${group}/${version} ${plural}`;
    const policy = { ...DEFAULT_RETRY_POLICY, attemptTimeoutMs: 4_500, totalTimeoutMs: 9_000 };
    try {
      const names = await withRetry(policy, (e) => this.classifyDiscovery(e, what) === 'transient', (signal) => this.discover(group, version, signal));
      return names.includes(plural);
    } catch (error) {
      const classified = this.classifyDiscovery(error, what);
      if (classified !== 'transient') throw classified;
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed to reach the cluster';
      throw new ConnectionError(`k8s: API discovery of ${what} ${reason}; check the kubeconfig's server address and that it is up`, 'k8s');
    }
  }

  public get requester(): string {
    return this.identity;
  }

  protected async backendGet(key: string): Promise<string | undefined> {
    const [name, dataKey] = this.split(key);
    const secret = await this.read(name);
    const encoded = secret?.data?.[dataKey];
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }

  protected async backendGetMulti(name: string): Promise<{ [key: string]: string }> {
    if (dnsSubdomainProblem(name)) {
      throw new SecretsConfigError(`k8s: ${JSON.stringify(name)} is not a Secret name; pass the name alone, e.g. "db-creds"`, 'k8s', name);
    }
    const secret = await this.read(name);
    return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }): Promise<void> {
    const [name, dataKey] = this.split(key);
    const encoded = Buffer.from(value, 'utf8').toString('base64');
    const annotations = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`floe.dev/${k}`, v]));
    const existing = await this.read(name);
    if (!existing) {
      await this.api.createNamespacedSecret({
        namespace: this.namespace,
        body: { metadata: { name, namespace: this.namespace, annotations }, type: 'Opaque', data: { [dataKey]: encoded } },
      });
      return;
    }
    // Replace with the resourceVersion read: a concurrent writer makes this a 409, which is retried.
    await this.api.replaceNamespacedSecret({
      name,
      namespace: this.namespace,
      body: {
        ...existing,
        metadata: { ...existing.metadata, annotations: { ...existing.metadata?.annotations, ...annotations } },
        data: { ...existing.data, [dataKey]: encoded },
      },
    });
  }

  protected async backendList(): Promise<string[]> {
    const list = await this.api.listNamespacedSecret({ namespace: this.namespace });
    return list.items.flatMap((secret) => Object.keys(secret.data ?? {}).map((k) => `${secret.metadata?.name}/${k}`));
  }

  protected async backendHealth(): Promise<void> {
    await this.versionApi.getCode();
  }

  protected classify(error: unknown, action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') {
      if (code === 401 || code === 403) {
        const verb = { 'get': 'get', 'get-multi': 'get', 'set': 'get, create and update', 'list': 'list', 'health': 'get' }[action];
        const what = key === undefined || action === 'list' ? 'secrets' : `secret ${JSON.stringify(key.split('/')[0])}`;
        return new PermissionError(
          `k8s: ${this.identity} may not ${action} ${what} in namespace ${this.namespace} (HTTP ${code}); ` +
            `grant the verb(s) ${verb} on secrets in that namespace with a Role, or use a key of a Secret it may read`,
          'k8s',
          key,
        );
      }
      if (code === 409 || code === 429 || code >= 500) return 'transient';
      return new SecretsConfigError(`k8s: ${action} was refused with HTTP ${code}; check the key and the Secret`, 'k8s', key);
    }
    return 'transient';
  }

  /** The resource names of `/apis/<group>/<version>` (none when the server does not know it), by a raw GET that honours `signal`. */
  private async discover(group: string, version: string, signal: AbortSignal): Promise<string[]> {
    const server = this.kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    const url = new URL(`${server}/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`);
    const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    return new Promise<string[]>((done, fail) => {
      const req = (url.protocol === 'http:' ? http : https).request(url, { ...options, agent: false, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code === 404) return done([]);
          if (code !== 200) return fail(Object.assign(new Error(`HTTP ${code}`), { code }));
          try {
            const resources = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.resources;
            return done(Array.isArray(resources) ? resources.map((r: { name?: unknown }) => String(r?.name)) : []);
          } catch {
            return fail(Object.assign(new Error('not an APIResourceList'), { code: 502 }));
          }
        });
      });
      req.on('error', fail);
      req.end();
    });
  }

  private classifyDiscovery(error: unknown, what: string): SecretsError | 'transient' {
    if (error instanceof SecretsError) return error;
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'number' || code === 429 || code >= 500) return 'transient';
    if (code === 401 || code === 403) {
      return new PermissionError(`k8s: ${this.identity} may not read API discovery of ${what} (HTTP ${code}); grant it the system:discovery ClusterRole`, 'k8s');
    }
    return new SecretsConfigError(`k8s: API discovery of ${what} was refused with HTTP ${code}`, 'k8s');
  }

  private split(key: string): [string, string] {
    const [name, dataKey, ...rest] = key.split('/');
    if (rest.length > 0 || !dataKey || dnsSubdomainProblem(name) || secretKeyProblem(dataKey)) {
      checkKey('k8s', key, this.keyRules);
      throw new SecretsConfigError(
        `k8s: key ${JSON.stringify(key)} is not "<secret>/<key>" with a valid Secret name and data key; write it like "db-creds/password"`,
        'k8s',
        key,
      );
    }
    return [name, dataKey];
  }

  private async read(name: string): Promise<K8s.V1Secret | undefined> {
    try {
      return await this.api.readNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }
}
