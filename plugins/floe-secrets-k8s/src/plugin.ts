import { existsSync } from 'node:fs';
import { inspect } from 'node:util';
import {
  AuditAction, checkKey, ConnectionError, DEFAULT_RETRY_POLICY, dnsSubdomainProblem, KeyRules, parseConfig, PermissionError, PluginOptions,
  quote, SecretsConfigError, SecretsError, SecretsPlugin, secretKeyProblem, withRetry,
} from '@floe-secrets/core';
import type * as K8s from '@kubernetes/client-node';
import { AuthKind } from './auth-kind';
import { configSchema } from './config-schema';
import { ApiStatusError, isRetryable, KubeApi, retryableConnectionError, Target } from './kube-api';
import { loadKubeconfig } from './kubeconfig';

export type { AuthKind } from './auth-kind';

// @kubernetes/client-node 1.x is ESM-only. Node 20.19+ loads ESM through require(). Taking Node's
// own require from process.getBuiltinModule (rather than the module-scoped one, which test runners
// and bundlers replace with loaders that cannot load ESM) keeps this package CommonJS without
// pinning the client to an old major. Only its KubeConfig is used (finding the cluster, applying
// credentials); requests go through {@link KubeApi}, which never follows a redirect.
// It is loaded by the first plugin made, not with this module: loading it takes about 0.35 s
// (hundreds of generated API modules), which a command that never reaches a cluster (the CLI's
// plan, scan, access-map, help) should not pay.
let k8sClient: typeof K8s | undefined;
function k8sModule(): typeof K8s {
  if (!k8sClient) {
    const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
    k8sClient = nodeModule.createRequire(__filename)('@kubernetes/client-node') as typeof K8s;
  }
  return k8sClient;
}

/** The verbs on Secrets the plugin's operations use: get (get, get-multi, set), list (list), create and update (set). */
export const SECRET_VERBS = ['get', 'list', 'create', 'update'] as const;

/** One of {@link SECRET_VERBS}. */
export type SecretVerb = typeof SECRET_VERBS[number];

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The most context names an error lists. */
const MAX_CONTEXTS_LISTED = 20;

/**
 * Makes `context` the current context of `kc`, as kubectl's `--context`.
 *
 * @throws SecretsConfigError when the kubeconfig has no such context, naming it and listing those
 * it has (names only: a context holds no credential)
 */
function useContext(kc: K8s.KubeConfig, context: string, file: string | undefined): void {
  const names = kc.getContexts().map((c) => c.name);
  if (!names.includes(context)) {
    const which = file !== undefined ? `the kubeconfig ${quote(file)}` : 'the kubeconfig ($KUBECONFIG, else ~/.kube/config)';
    const listed = names.slice(0, MAX_CONTEXTS_LISTED).join(', ') + (names.length > MAX_CONTEXTS_LISTED ? ` and ${names.length - MAX_CONTEXTS_LISTED} more` : '');
    const has = names.length === 0 ? 'it has no context' : `its contexts are ${listed}`;
    throw new SecretsConfigError(`k8s: context ${quote(context)} is not in ${which}; ${has}: pick one of them (kubectl config get-contexts)`, 'k8s');
  }
  kc.setCurrentContext(context);
}

/** A Secret as the apiserver answers it; only the fields the plugin reads are checked. */
interface SecretObject {
  readonly kind: 'Secret';
  readonly metadata?: { readonly name?: string; readonly annotations?: { readonly [name: string]: string } };
  readonly data?: { readonly [key: string]: string };
}

/**
 * Kubernetes Secrets as a floe secrets backend: no external service, Secrets created by
 * the platform team (`kubectl create secret`). Keys are `<secret>/<key>`: `db-creds/password` is
 * key `password` of Secret `db-creds` in the configured namespace (default `floe-jobs`). The
 * cluster is found automatically: in-cluster config inside a pod, else the kubeconfig.
 *
 * Reads never create anything. `setSecret` creates the Secret or updates the key, with optimistic
 * concurrency. Access the RBAC of the identity does not allow is a {@link PermissionError} that
 * names the namespace, the Secret and the verb to grant.
 *
 * Requests go to the kubeconfig's server only: a redirect is refused (ConnectionError naming its
 * host) and nothing is sent there. Only the apiserver's own JSON Status with reason NotFound means
 * a Secret is missing; an HTML 404 (a proxy, a wrong address) is a ConnectionError. The kubeconfig
 * and its credentials are held in private fields: String, JSON and `util.inspect` of the plugin
 * show the server, the namespace, the kubeconfig user and the kind of credential only.
 *
 * @requirement REQ-134
 */
export class K8sSecretsPlugin extends SecretsPlugin {
  public readonly name = 'k8s';
  public readonly version = '0.1.0';
  /** The namespace the plugin works in. */
  public readonly namespace: string;
  protected readonly keyRules: KeyRules = { allowSlash: true };
  readonly #api: KubeApi;

  public constructor(config: unknown = {}, options: PluginOptions = {}) {
    super(options);
    const parsed = parseConfig('k8s', configSchema, config);
    this.namespace = parsed.namespace;
    const k8s = k8sModule();
    const kc = new k8s.KubeConfig();
    try {
      if (!parsed.kubeconfig && process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
      else loadKubeconfig(k8s, kc, parsed.kubeconfig);
      if (parsed.context) useContext(kc, parsed.context, parsed.kubeconfig);
    } catch (error) {
      if (error instanceof SecretsConfigError) throw error;
      throw new SecretsConfigError(`k8s: could not load the cluster configuration (${(error as Error).name}); check the kubeconfig path and context`, 'k8s');
    }
    this.#api = new KubeApi(kc);
  }

  /** The kubeconfig's server, e.g. `https://10.0.0.1:6443` (never user info or query). */
  public get server(): string {
    return this.#api.server;
  }

  /** The kind of credential the kubeconfig user has (never the credential). */
  public get auth(): AuthKind {
    return this.#api.auth;
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
      const names = await withRetry(policy, (e) => this.classifyDiscovery(e, what) === 'transient', (signal) => this.discover(group, version, what, signal));
      return names.includes(plural);
    } catch (error) {
      const classified = this.classifyDiscovery(error, what);
      if (classified !== 'transient') throw classified;
      if (error instanceof ConnectionError) throw error;
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed to reach the cluster';
      throw new ConnectionError(`k8s: API discovery of ${what} ${reason}; check the kubeconfig's server address and that it is up`, 'k8s');
    }
  }

  public get requester(): string {
    return this.#api.identity;
  }

  /** Safe facts only: never a credential. */
  public toJSON(): { plugin: string; server: string; namespace: string; user: string; auth: AuthKind } {
    return { plugin: this.name, server: this.#api.server, namespace: this.namespace, user: this.#api.identity, auth: this.#api.auth };
  }

  public toString(): string {
    return `K8sSecretsPlugin(${this.#api.server}, namespace ${this.namespace}, ${this.#api.auth})`;
  }

  public [inspect.custom](): string {
    const { plugin: _plugin, ...facts } = this.toJSON();
    return `K8sSecretsPlugin ${inspect(facts, { breakLength: Infinity })}`;
  }

  protected async backendGet(key: string, signal: AbortSignal): Promise<string | undefined> {
    const [name, dataKey] = this.split(key);
    const secret = await this.read(name, signal, { what: `get ${JSON.stringify(key)}`, key });
    const encoded = secret?.data?.[dataKey];
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }

  protected async backendGetMulti(name: string, signal: AbortSignal): Promise<{ [key: string]: string }> {
    if (dnsSubdomainProblem(name)) {
      throw new SecretsConfigError(`k8s: ${JSON.stringify(name)} is not a Secret name; pass the name alone, e.g. "db-creds"`, 'k8s', name);
    }
    const secret = await this.read(name, signal, { what: `get-multi ${JSON.stringify(name)}`, key: name });
    return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void> {
    const [name, dataKey] = this.split(key);
    const target: Target = { what: `set ${JSON.stringify(key)}`, key };
    const encoded = Buffer.from(value, 'utf8').toString('base64');
    const annotations = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`floe.dev/${k}`, v]));
    const existing = await this.read(name, signal, target);
    const collections = `/api/v1/namespaces/${this.namespace}/secrets`;
    try {
      const written = !existing
        ? await this.#api.request('POST', collections, {
          apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: this.namespace, annotations }, type: 'Opaque', data: { [dataKey]: encoded },
        }, signal, target)
        // Replace with the resourceVersion read: a concurrent writer makes this a 409, which is retried.
        : await this.#api.request('PUT', `${collections}/${name}`, {
          ...existing,
          metadata: { ...existing.metadata, annotations: { ...existing.metadata?.annotations, ...annotations } },
          data: { ...existing.data, [dataKey]: encoded },
        }, signal, target);
      if (!isSecret(written)) throw this.wrongShape(target, 'a Secret', 'the write may or may not have been applied');
    } catch (error) {
      if (error instanceof ApiStatusError && error.status === 409) {
        throw retryableConnectionError(
          `k8s: ${target.what} failed: another writer changed Secret ${JSON.stringify(name)} at the same time (HTTP 409 ${error.reason}) until the retries ran out; try again`,
          key);
      }
      if (error instanceof ApiStatusError && error.status === 404 && error.detailsKind === 'namespaces') {
        throw new SecretsConfigError(
          `k8s: ${target.what} failed: namespace ${this.namespace} does not exist; create it (kubectl create namespace ${this.namespace}) or configure the plugin's namespace`,
          'k8s', key);
      }
      throw error;
    }
  }

  protected async backendList(prefix: string, signal: AbortSignal): Promise<string[]> {
    const target: Target = { what: `list secrets in namespace ${this.namespace}`, key: prefix };
    const list = await this.#api.request('GET', `/api/v1/namespaces/${this.namespace}/secrets`, undefined, signal, target);
    const items = (list as { kind?: unknown; items?: unknown } | null)?.items;
    if ((list as { kind?: unknown }).kind !== 'SecretList' || !Array.isArray(items) || !items.every((item) => isSecret(item, false))) {
      throw this.wrongShape(target, 'a SecretList');
    }
    return items.flatMap((secret) => Object.keys(secret.data ?? {}).map((k) => `${secret.metadata?.name}/${k}`));
  }

  /**
   * Healthy when the cluster answers, accepts the credentials and lets the identity get Secrets in
   * the namespace (SelfSubjectAccessReviews). Without get, the plugin cannot do its job, and the
   * message names the namespace, every missing verb of {@link SECRET_VERBS} and the Role to grant.
   * list, create and update are needed only by list and set, which a read-only workload never
   * calls, so their absence alone is not unhealthy.
   */
  protected async backendHealth(signal: AbortSignal): Promise<void> {
    const allowed = await Promise.all(SECRET_VERBS.map((verb) => this.mayOnSecrets(verb, signal)));
    const missing = SECRET_VERBS.filter((_, i) => !allowed[i]);
    if (!missing.includes('get')) return;
    const subject = /^system:serviceaccount:[^:]+:[^:]+$/.test(this.#api.identity)
      ? `--serviceaccount=${this.#api.identity.split(':').slice(2).join(':')}`
      : `--user=${this.#api.identity}`;
    throw new PermissionError(
      `k8s: ${this.#api.identity} may not get secrets in namespace ${this.namespace}; missing verbs on secrets there: ${missing.join(', ')}. ` +
        `Grant them with a Role bound to it: kubectl create role floe-secrets -n ${this.namespace} --resource=secrets --verb=${SECRET_VERBS.join(',')} && ` +
        `kubectl create rolebinding floe-secrets -n ${this.namespace} --role=floe-secrets ${subject}`,
      'k8s',
    );
  }

  protected classify(error: unknown, action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    if (isRetryable(error)) return 'transient';
    if (error instanceof SecretsError) return error;
    if (error instanceof ApiStatusError) {
      const code = error.status;
      if (code === 401 || code === 403) {
        const verb = { 'get': 'get', 'get-multi': 'get', 'set': 'get, create and update', 'list': 'list', 'health': 'get' }[action];
        const what = key === undefined || action === 'list' ? 'secrets' : `secret ${JSON.stringify(key.split('/')[0])}`;
        return new PermissionError(
          `k8s: ${this.#api.identity} may not ${action} ${what} in namespace ${this.namespace} (HTTP ${code}); ` +
            `grant the verb(s) ${verb} on secrets in that namespace with a Role, or use a key of a Secret it may read`,
          'k8s',
          key,
        );
      }
      if (code === 409) return 'transient';
      return new SecretsConfigError(`k8s: ${action} was refused with HTTP ${code} (${error.reason}); check the key and the Secret`, 'k8s', key);
    }
    // No answer in time, or a failure nothing above foresaw.
    return 'transient';
  }

  /** Whether the plugin's identity may `verb` Secrets in its namespace, by SelfSubjectAccessReview. */
  private async mayOnSecrets(verb: SecretVerb, signal: AbortSignal): Promise<boolean> {
    const target: Target = { what: `health check (may ${verb} secrets in namespace ${this.namespace}?)` };
    const review = await this.#api.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: this.namespace, verb, resource: 'secrets' } },
    }, signal, target).catch((error: unknown) => {
      if (error instanceof ApiStatusError && (error.status === 401 || error.status === 403)) {
        throw new PermissionError(
          `k8s: ${this.#api.identity} may not create selfsubjectaccessreviews (HTTP ${error.status}), so its access to secrets cannot be checked; ` +
            'bind it to the system:basic-user ClusterRole (every authenticated user has it by default)',
          'k8s',
        );
      }
      if (error instanceof ApiStatusError) {
        throw new ConnectionError(`k8s: ${target.what} failed: the apiserver answered HTTP ${error.status} (${error.reason}) to a SelfSubjectAccessReview`, 'k8s');
      }
      throw error;
    });
    const allowed = (review as { kind?: unknown; status?: { allowed?: unknown } } | null)?.status?.allowed;
    if ((review as { kind?: unknown }).kind !== 'SelfSubjectAccessReview' || typeof allowed !== 'boolean') {
      throw this.wrongShape(target, 'a SelfSubjectAccessReview');
    }
    return allowed;
  }

  /** The resource names of `/apis/<group>/<version>` (none when the server does not know it). */
  private async discover(group: string, version: string, what: string, signal: AbortSignal): Promise<string[]> {
    const target: Target = { what: `API discovery of ${what}` };
    const path = `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
    const raw = await this.#api.send('GET', path, undefined, signal, target);
    // A group version the server does not serve: its plain-text "404 page not found" or a NotFound Status.
    const notServed = raw.status === 404 && (raw.contentType === 'text/plain' || (raw.json as { kind?: unknown } | null)?.kind === 'Status');
    if (notServed) return [];
    const answer = this.#api.settle(raw, target);
    const resources = (answer as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources)) throw this.wrongShape(target, 'an APIResourceList');
    return resources.map((r: { name?: unknown }) => String(r?.name));
  }

  private classifyDiscovery(error: unknown, what: string): SecretsError | 'transient' {
    if (isRetryable(error)) return 'transient';
    if (error instanceof SecretsError) return error;
    if (error instanceof ApiStatusError) {
      if (error.status === 401 || error.status === 403) {
        return new PermissionError(
          `k8s: ${this.#api.identity} may not read API discovery of ${what} (HTTP ${error.status}); grant it the system:discovery ClusterRole`, 'k8s');
      }
      return new SecretsConfigError(`k8s: API discovery of ${what} was refused with HTTP ${error.status} (${error.reason})`, 'k8s');
    }
    return 'transient';
  }

  private wrongShape(target: Target, expected: string, consequence?: string): ConnectionError {
    return new ConnectionError(
      `k8s: ${target.what} failed: ${this.#api.server} answered with JSON that is not ${expected}` +
        `${consequence ? ` (${consequence})` : ''}; a proxy or a wrong address answered, not the apiserver: check the kubeconfig's server`,
      'k8s',
      target.key,
    );
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

  /** The Secret `name`, or undefined when the apiserver says (in its own JSON Status) that there is none. */
  private async read(name: string, signal: AbortSignal, target: Target): Promise<SecretObject | undefined> {
    let secret: unknown;
    try {
      secret = await this.#api.request('GET', `/api/v1/namespaces/${this.namespace}/secrets/${name}`, undefined, signal, target);
    } catch (error) {
      if (error instanceof ApiStatusError && error.status === 404 && error.reason === 'NotFound' && error.detailsKind === 'secrets' && error.detailsName === name) {
        return undefined;
      }
      throw error;
    }
    if (!isSecret(secret)) throw this.wrongShape(target, 'a Secret');
    return secret;
  }
}

/** Whether `json` is a Secret as the apiserver answers it, its data all strings (the items of a list carry no kind). */
function isSecret(json: unknown, withKind = true): json is SecretObject {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  if (withKind && (json as { kind?: unknown }).kind !== 'Secret') return false;
  const data = (json as { data?: unknown }).data;
  if (data === undefined || data === null) return true;
  return typeof data === 'object' && !Array.isArray(data) && Object.values(data).every((v) => typeof v === 'string');
}
