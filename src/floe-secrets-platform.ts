import { posix } from 'node:path';
import { ComputeTarget, loadPlatformManifest, PlatformManifest } from '@floe-secrets/core';
import { Construct } from 'constructs';
import { SecretStoreKind } from './external-secret-source';
import { FloeDomain, FloeDomainProps } from './floe-domain';
import { FloeSecret, IFloeSecret } from './floe-secret';
import { InfisicalAuthentication, InfisicalOperatorApi, InfisicalSecretSource } from './infisical-secret-source';
import { optionalString, requireProps, requireRecord, requireString } from './internal/runtime-props';
import { childPath, constructError, quote } from './internal/validation';
import { SecretWorkload } from './secret-workload';
import { VaultSecretSource } from './vault-secret-source';
import { VaultSecretStore } from './vault-secret-store';

/** Properties of a {@link FloeSecretsPlatform}. */
export interface FloeSecretsPlatformProps {
  /** The parsed platform manifest (see {@link parsePlatformManifest}). */
  readonly manifest: PlatformManifest;

  /**
   * The environment this app is synthesized for, given to every domain (see
   * {@link FloeDomainProps.environment}): with `'dev'`, domain `sales` lives in namespace
   * `floe-sales-dev` and its construct id is `sales-dev`, so that one app may hold a platform per
   * environment.
   *
   * @default - no environment: namespaces `floe-<domain>`, construct ids `<domain>`
   */
  readonly environment?: string;
}

/** Options of {@link FloeSecretsPlatform.fromManifest}. */
export interface FloeSecretsPlatformOptions {
  /**
   * The environment this app is synthesized for (see {@link FloeSecretsPlatformProps.environment}).
   *
   * @default - no environment
   */
  readonly environment?: string;
}

/** How one compute target reaches one domain. */
type Connection =
  | { readonly kind: 'secret'; readonly secret: IFloeSecret }
  | { readonly kind: 'vault-agent'; readonly source: VaultSecretSource };

/**
 * The platform team's choices from `manifest.yaml`, turned into constructs: one
 * {@link FloeDomain} per declared domain and, for every compute target, the source its backend
 * needs in each domain that uses it. Data teams ask for a target's credentials by name and write
 * no backend-specific code:
 *
 * - `k8s`: a Secret the platform team creates with kubectl ({@link FloeSecret.fromSecretName});
 * - `infisical`: an {@link InfisicalSecretSource} reading `<secrets_path>/compute/<target>`, whose
 *   `secretsScope` is that folder alone, logging in with the domain's own credentials Secret (or
 *   ServiceAccount) when the manifest gives it no namespace;
 * - `vault` with `delivery: external-secrets`: an ExternalSecret through the manifest's
 *   `secret_store`, or else through a {@link VaultSecretStore} `vault` of the domain's own (Vault
 *   role `floe-<domain>`);
 * - `vault` with `delivery: agent-injector`: Vault Agent files (no Kubernetes Secret).
 *
 * @requirement REQ-135
 */
export class FloeSecretsPlatform extends Construct {
  /** Reads, validates and applies a manifest file. */
  public static fromManifest(scope: Construct, id: string, manifestPath: string, options: FloeSecretsPlatformOptions = {}): FloeSecretsPlatform {
    requireString(childPath(scope, id), 'manifest path', manifestPath, 'pass the path of manifest.yaml');
    requireRecord(childPath(scope, id), 'options', options, 'pass { environment: "dev" } or nothing');
    return new FloeSecretsPlatform(scope, id, { manifest: loadPlatformManifest(manifestPath), environment: options.environment });
  }

  /** The manifest the platform was built from. */
  public readonly manifest: PlatformManifest;

  private readonly domains = new Map<string, FloeDomain>();
  private readonly connections = new Map<string, Connection>();

  public constructor(scope: Construct, id: string, props: FloeSecretsPlatformProps) {
    const path = childPath(scope, id);
    requireProps(path, props, '{ manifest: parsePlatformManifest(text) }');
    requireRecord(path, 'manifest', props.manifest, 'pass the manifest parsed with parsePlatformManifest or loadPlatformManifest, or use FloeSecretsPlatform.fromManifest(scope, id, path)');
    optionalString(path, 'environment', props.environment, 'give the environment as a string, e.g. { environment: "dev" }');
    const domainProps = props.manifest.domains.map(({ name }): [string, FloeDomainProps] => [
      props.environment === undefined ? name : `${name}-${props.environment}`, { domain: name, environment: props.environment },
    ]);
    // Every domain is checked before any construct is made: a refused environment leaves nothing behind.
    for (const [domainId, domainProp] of domainProps) FloeDomain._namespaceOf(childPath(scope, domainId), domainProp);
    super(scope, id);
    this.manifest = props.manifest;
    for (const [domainId, domainProp] of domainProps) this.domains.set(domainProp.domain, new FloeDomain(scope, domainId, domainProp));
    for (const [target, config] of Object.entries(props.manifest.compute)) {
      for (const domainName of config.domains ?? []) {
        const domain = this.domain(domainName);
        this.connections.set(`${target}/${domainName}`, this.connect(domain, target, config));
      }
    }
  }

  /**
   * The domain declared as `domains[].name` in the manifest.
   *
   * @throws when the manifest does not declare it
   */
  public domain(name: string): FloeDomain {
    const domain = this.domains.get(name);
    if (!domain) {
      throw constructError(this, `domain ${quote(name)} is not declared in the manifest (domains: ${[...this.domains.keys()].join(', ') || 'none'})`, 'add it under domains: in manifest.yaml');
    }
    return domain;
  }

  /**
   * The Kubernetes Secret holding `target`'s credentials in `domain`, for env vars, envFrom or
   * file mounts.
   *
   * @throws when the target is unknown, not declared for the domain, or delivered by the Vault
   * Agent (which writes files and creates no Secret: use {@link FloeSecretsPlatform.mountConnection})
   */
  public connectionSecret(target: string, domain: FloeDomain): IFloeSecret {
    const connection = this.connection(target, domain);
    if (connection.kind !== 'secret') {
      throw constructError(
        this,
        `compute target ${quote(target)} is delivered by the Vault Agent, which writes files and creates no Kubernetes Secret`,
        'use mountConnection(workload, target) for files, or set delivery: external-secrets in manifest.yaml for a Secret',
      );
    }
    return connection.secret;
  }

  /**
   * Makes `target`'s credentials appear as files in `/run/secrets/<connection_secret_ref>/`
   * inside `workload`, whatever the backend.
   */
  public mountConnection(workload: SecretWorkload, target: string): void {
    const connection = this.connection(target, workload.domain);
    if (connection.kind === 'secret') workload.mountSecret(connection.secret);
    else connection.source.injectInto(workload);
  }

  private connection(target: string, domain: FloeDomain): Connection {
    const config = this.manifest.compute[target];
    if (!config) {
      throw constructError(this, `compute target ${quote(target)} is not in the manifest (compute: ${Object.keys(this.manifest.compute).join(', ') || 'none'})`, 'add it under compute: in manifest.yaml');
    }
    const connection = this.connections.get(`${target}/${domain.domainName}`);
    if (!connection) {
      throw constructError(
        this,
        `compute target ${quote(target)} is not declared for domain ${quote(domain.domainName)} (compute.${target}.domains: [${(config.domains ?? []).join(', ')}])`,
        `add ${domain.domainName} to compute.${target}.domains in manifest.yaml`,
      );
    }
    return connection;
  }

  /**
   * The domain's own {@link VaultSecretStore} (construct id `VaultSecretStore`, named `vault`),
   * through which the platform's ExternalSecrets read when the manifest picks Vault with
   * `delivery: external-secrets` and names no `secret_store`; made once per domain. Use it for
   * the domain's own {@link ExternalSecretSource}s too, rather than a second store.
   *
   * @throws when the manifest's backend is not Vault with `delivery: external-secrets`, or names a
   * `secret_store` of the platform team's
   */
  public vaultSecretStore(domain: FloeDomain): VaultSecretStore {
    const backend = this.manifest.plugins.secrets;
    if (backend.type !== 'vault' || backend.delivery !== 'external-secrets' || backend.secretStore) {
      const what = backend.type !== 'vault' ? `the ${backend.type} backend`
        : backend.delivery !== 'external-secrets' ? 'Vault with delivery agent-injector'
          : `the platform team's ${backend.secretStore!.kind} ${quote(backend.secretStore!.name)}`;
      throw constructError(this, `the manifest picks ${what}, so the platform makes no Vault SecretStore per domain`,
        'create a VaultSecretStore in the domain yourself, or use Vault with delivery: external-secrets and no secret_store in manifest.yaml');
    }
    const existing = domain.node.tryFindChild('VaultSecretStore');
    if (existing instanceof VaultSecretStore) return existing;
    return new VaultSecretStore(domain, 'VaultSecretStore', { server: backend.address, mount: backend.mount, vaultNamespace: backend.vaultNamespace });
  }

  private connect(domain: FloeDomain, target: string, config: ComputeTarget): Connection {
    const backend = this.manifest.plugins.secrets;
    const id = `Compute-${target}`;
    if (backend.type !== 'vault' || backend.delivery === 'external-secrets') {
      const keys = config.keys;
      if (!keys || keys.length === 0) {
        throw constructError(this, `compute.${target}.keys is not set`, `list the keys of ${quote(config.connectionSecretRef)} in manifest.yaml, e.g. keys: [user, password]`);
      }
      if (backend.type === 'k8s') {
        return { kind: 'secret', secret: FloeSecret.fromSecretName(domain, id, config.connectionSecretRef, { keys }) };
      }
      if (backend.type === 'infisical') {
        const auth = backend.auth;
        return {
          kind: 'secret',
          secret: new InfisicalSecretSource(domain, id, {
            siteUrl: backend.siteUrl,
            projectId: backend.projectId,
            projectSlug: backend.projectSlug,
            envSlug: backend.environment,
            secretsPath: posix.join(backend.secretsPath, 'compute', target),
            resyncInterval: backend.resyncInterval,
            operatorApi: backend.operatorApi === 'v1beta1' ? InfisicalOperatorApi.V1BETA1 : InfisicalOperatorApi.V1ALPHA1,
            // Without a namespace, each domain's own Secret or ServiceAccount: one identity per domain.
            authentication: auth.method === 'universal-auth'
              ? InfisicalAuthentication.universalAuth({ ...auth.credentialsSecret, namespace: auth.credentialsSecret.namespace ?? domain.namespace })
              : InfisicalAuthentication.kubernetesAuth(
                auth.domainIdentityIds?.[domain.domainName] ?? auth.identityId,
                { ...auth.serviceAccount, namespace: auth.serviceAccount.namespace ?? domain.namespace },
              ),
            secretName: config.connectionSecretRef,
            keys,
          }).secret,
        };
      }
      const store = backend.secretStore;
      return {
        kind: 'secret',
        secret: VaultSecretSource.viaExternalSecrets(domain, id, {
          secretStore: store
            ? { name: store.name, kind: store.kind === 'SecretStore' ? SecretStoreKind.SECRET_STORE : SecretStoreKind.CLUSTER_SECRET_STORE }
            : this.vaultSecretStore(domain),
          path: `compute/${target}`,
          keys,
          secretName: config.connectionSecretRef,
        }).secret,
      };
    }
    if (backend.authMethod !== 'kubernetes') {
      throw constructError(this, `the Vault Agent logs in with Kubernetes auth, but plugins.secrets.auth_method is ${quote(backend.authMethod)}`, 'set auth_method: kubernetes, or delivery: external-secrets');
    }
    return {
      kind: 'vault-agent',
      source: new VaultSecretSource(domain, id, {
        role: backend.role!,
        mount: backend.mount,
        vaultNamespace: backend.vaultNamespace,
        path: `compute/${target}`,
        keys: config.keys ?? [],
        name: config.connectionSecretRef,
      }),
    };
  }
}
