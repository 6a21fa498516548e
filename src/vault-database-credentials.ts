import { parseDuration } from '@floe-secrets/core';
import { ApiObject, JsonPatch, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { ExternalSecretSource } from './external-secret-source';
import { FloeDomain } from './floe-domain';
import { describeValue, optionalString, requireProps, requireRecord, requireString } from './internal/runtime-props';
import { childPath, constructError, dnsSubdomainProblem, isEnvVarName, quote } from './internal/validation';
import { annotateAgent, checkAgentTarget } from './internal/vault-agent';
import { VAULT_AGENT_PORT } from './internal/vault-agent-port';
import { checkKvPath } from './internal/vault-paths';
import { SECRET_MOUNT_ROOT } from './pod-spec';
import { SecretMountedJob } from './secret-mounted-job';
import { SOURCE_LABEL, sourceAnnotations } from './secret-source';
import { SecretWorkload } from './secret-workload';
import { VaultSecretStore } from './vault-secret-store';

/** The lease times of a Vault database role, as the platform team configured them in Vault. */
export interface DatabaseRoleTtls {
  /**
   * The role's `default_ttl`: how long credentials live unless renewed, e.g. `1h`.
   */
  readonly defaultTtl: string;
  /**
   * The role's `max_ttl`: how long credentials can live at most, renewals included, e.g. `24h`.
   */
  readonly maxTtl: string;
  /**
   * The token TTL of the Vault login that asks for the credentials (the Kubernetes auth role's
   * `token_ttl`): Vault revokes a token's leases with it, so credentials never outlive it.
   *
   * @default '1h' (what `floe-secrets vault-policies` writes)
   */
  readonly loginTtl?: string;
}

/** Properties of a {@link VaultDatabaseCredentials}. */
export interface VaultDatabaseCredentialsProps extends DatabaseRoleTtls {
  /** The database secrets engine role, e.g. `app-readwrite`: credentials come from `<mount>/creds/<role>`. */
  readonly role: string;

  /**
   * The path of the database secrets engine.
   *
   * @default 'database'
   */
  readonly mount?: string;

  /** The Vault role of the Kubernetes auth method the pod's Vault Agent logs in with, e.g. `floe-sales`. */
  readonly vaultRole: string;

  /**
   * The directory name: `/run/secrets/<name>/` holds `username`, `password` and `env`.
   */
  readonly name: string;

  /**
   * Env var names under which the main container's command sees the credentials: its command is
   * wrapped to export them from `/run/secrets/<name>/env` before it runs (the workload must give
   * `command`).
   *
   * @default - none: the credentials are files only
   */
  readonly envVars?: { readonly username: string; readonly password: string };

  /**
   * The Vault Enterprise namespace.
   *
   * @default - none
   */
  readonly vaultNamespace?: string;

  /**
   * The path of the Kubernetes auth method.
   *
   * @default - the injector's default, `auth/kubernetes`
   */
  readonly authPath?: string;
}

/** Properties of {@link VaultDatabaseCredentials.viaExternalSecrets}. */
export interface VaultDatabaseSecretProps extends DatabaseRoleTtls {
  /** The database secrets engine role. */
  readonly role: string;
  /**
   * The path of the database secrets engine.
   *
   * @default 'database'
   */
  readonly mount?: string;
  /** The domain's Vault store: the generator logs in as it does (server, Vault role, ServiceAccount). */
  readonly secretStore: VaultSecretStore;
  /** The managed Kubernetes Secret, with keys `username` and `password`. */
  readonly secretName: string;
  /**
   * How often ESO asks Vault for new credentials: a new database user each time. Under half the
   * credentials' lifetime (the shorter of `defaultTtl` and `loginTtl`).
   *
   * @default - a third of that lifetime, e.g. 1200s for 1h
   */
  readonly refreshInterval?: string;
}

/** How a Job got its credentials: for reviewers and tests. */
export enum DatabaseCredentialsShape {
  /** An init container writes the files once: the Job ends before the lease and the login expire. */
  INIT_ONLY = 'init-only',
  /** A sidecar renews the lease; the main container's command asks it to quit when it exits. */
  SIDECAR_WITH_QUIT = 'sidecar-with-quit',
  /** A sidecar renews the lease for as long as the pod runs (long-running workloads). */
  SIDECAR = 'sidecar',
}

/**
 * Dynamic database credentials from Vault's database secrets engine (`<mount>/creds/<role>`),
 * delivered as files by the Vault Agent Injector: `/run/secrets/<name>/username`, `password` and
 * `env` (`DB_USERNAME='…'` and `DB_PASSWORD='…'` lines, from one lease), never a Kubernetes
 * Secret.
 *
 * Lease behaviour, per shape chosen by {@link VaultDatabaseCredentials.injectInto}:
 *
 * - **Job or CronJob ending before the lease and the login expire** (`activeDeadlineSeconds`
 *   below both `defaultTtl` and `loginTtl`): `agent-pre-populate-only`. An init container asks
 *   once; nothing renews, nothing keeps the Job from completing. The database user lives until its
 *   TTL (or the login's) ends, then Vault drops it.
 * - **Job or CronJob running longer**: the agent sidecar renews the lease (up to `maxTtl`) and
 *   the main container's command is wrapped so that, when it exits, it asks the agent to quit
 *   (`agent-enable-quit`): the Job completes with the command's exit status. A deadline above
 *   `maxTtl` is refused at synth: no renewal can reach it.
 * - **Deployment, StatefulSet, DaemonSet**: the sidecar renews while the pod runs; when the lease
 *   reaches `maxTtl` (or the login its own maximum) the agent fetches new credentials and rewrites
 *   the files, so the application must re-read them.
 *
 * For a Kubernetes Secret instead, {@link VaultDatabaseCredentials.viaExternalSecrets} uses the
 * External Secrets VaultDynamicSecret generator.
 */
export class VaultDatabaseCredentials extends Construct {
  /**
   * The credentials as a Kubernetes Secret (keys `username`, `password`), through the External
   * Secrets `VaultDynamicSecret` generator, logging in as `secretStore` does. Lease behaviour: ESO
   * keeps no lease state. Every refresh creates a new database user; the old one lives until its
   * TTL, and every set dies with the login that made it, so the Secret's credentials live
   * `min(defaultTtl, loginTtl)` from their refresh. The refresh interval must be under half of
   * that, and every Job reading the Secret must finish within what is left after a refresh
   * (declared as the Secret's rotation period, checked at synth like any rotation).
   */
  public static viaExternalSecrets(scope: Construct, id: string, props: VaultDatabaseSecretProps): ExternalSecretSource {
    const path = childPath(scope, id);
    requireProps(path, props, "{ role: 'app-readwrite', secretStore, secretName: 'orders-db', defaultTtl: '1h', maxTtl: '24h' }");
    requireString(path, 'role', props.role, 'give the database role, e.g. "app-readwrite"');
    requireString(path, 'secretName', props.secretName, 'name the Secret ESO writes, e.g. "orders-db"');
    optionalString(path, 'mount', props.mount, 'give the database engine mount, e.g. "database"');
    optionalString(path, 'refreshInterval', props.refreshInterval, 'write it like "30m"');
    if (!(props.secretStore instanceof VaultSecretStore)) {
      throw constructError(path, `secretStore is not a VaultSecretStore, got ${describeValue(props.secretStore)}`, 'pass the domain\'s VaultSecretStore: the generator logs in as it does');
    }
    checkRole(path, props.role);
    if (props.mount !== undefined) checkKvPath(path, 'mount', props.mount, 'give the mount path without slashes, e.g. "database"');
    const { lifetime } = checkTtls(path, props);
    const refreshInterval = props.refreshInterval ?? `${Math.floor(lifetime / 3)}s`;
    const refresh = parseDuration(refreshInterval);
    if (refresh === undefined || refresh < 1) throw constructError(path, `refreshInterval ${quote(refreshInterval)} is not a duration of at least 1s`, 'write it like "20m"');
    // Credentials refreshed every R live L from their refresh: a reader starting just before a
    // refresh has L - R left, which must exceed R for the Secret ever to be fresh enough.
    if (refresh * 2 >= lifetime) {
      throw constructError(
        path,
        `refreshInterval ${quote(refreshInterval)} is not under half the credentials' lifetime (${seconds(lifetime)}: the shorter of defaultTtl and loginTtl), so a Job starting before a refresh could hold credentials that die first`,
        `refresh at most every ${seconds(Math.ceil(lifetime / 2) - 1)}, e.g. "${seconds(Math.floor(lifetime / 3))}"`,
      );
    }
    const store = props.secretStore;
    const domain = FloeDomain.of(scope);
    if (store.domain !== domain) {
      throw constructError(path, `secretStore ${store.node.path} is of domain ${quote(store.domain.domainName)}, not ${quote(domain.domainName)}`, `use a VaultSecretStore of domain ${quote(domain.domainName)}`);
    }
    // The Secret's credentials die `lifetime` after their refresh: Jobs must end within what is left.
    const rotationPeriod = `${lifetime - refresh}s`;
    const source = new ExternalSecretSource(scope, id, {
      secretStore: store,
      secretName: props.secretName,
      refreshInterval,
      rotationPeriod,
      data: [{ secretKey: 'username', remoteKey: 'username' }, { secretKey: 'password', remoteKey: 'password' }],
    });
    const generatorName = Names.toDnsLabel(source, { extra: ['generator'] });
    const vault = store.resource.toJson().spec.provider.vault;
    new ApiObject(source, 'Generator', {
      apiVersion: 'generators.external-secrets.io/v1alpha1',
      kind: 'VaultDynamicSecret',
      metadata: { name: generatorName, labels: { [SOURCE_LABEL]: 'external-secrets' }, annotations: sourceAnnotations(source.secret.source!) },
      spec: {
        path: `/${props.mount ?? 'database'}/creds/${props.role}`,
        method: 'GET',
        resultType: 'Data',
        provider: { server: vault.server, ...(vault.namespace ? { namespace: vault.namespace } : {}), auth: vault.auth },
      },
    });
    // The generator, not a store key, fills the Secret.
    const generatorRef = { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'VaultDynamicSecret', name: generatorName };
    source.resource.addJsonPatch(
      JsonPatch.remove('/spec/data'),
      JsonPatch.remove('/spec/secretStoreRef'),
      JsonPatch.add('/spec/dataFrom', [{ sourceRef: { generatorRef } }]),
    );
    return source;
  }

  /** The domain of the source: only workloads of this domain may get its files. */
  public readonly domain: FloeDomain;
  /** The path the credentials come from, `<mount>/creds/<role>`. */
  public readonly vaultPath: string;
  /** The directory the files appear in. */
  public readonly mountPath: string;
  /** `defaultTtl`, `maxTtl` and `loginTtl` in seconds. */
  public readonly ttlSeconds: { readonly default: number; readonly max: number; readonly login: number };

  private readonly props: VaultDatabaseCredentialsProps;
  private readonly shapes = new Map<SecretWorkload, DatabaseCredentialsShape>();

  public constructor(scope: Construct, id: string, props: VaultDatabaseCredentialsProps) {
    const path = childPath(scope, id);
    checkAgentProps(path, props);
    const ttls = checkTtls(path, props);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.props = props;
    this.vaultPath = `${props.mount ?? 'database'}/creds/${props.role}`;
    this.mountPath = `${SECRET_MOUNT_ROOT}/${props.name}`;
    this.ttlSeconds = { default: ttls.defaultTtl, max: ttls.maxTtl, login: ttls.loginTtl };
  }

  /** The shape chosen for `workload` by {@link injectInto}; undefined when not injected into it. */
  public shapeOf(workload: SecretWorkload): DatabaseCredentialsShape | undefined {
    return this.shapes.get(workload);
  }

  /**
   * Annotates `workload`'s pods so that the Vault Agent writes the credentials to
   * `/run/secrets/<name>/`, in the shape its kind and deadline need (see the class).
   *
   * @throws when the workload is of another domain, mounts no API token, is a Job without
   * `activeDeadlineSeconds` or with one above `maxTtl`, or needs its command wrapped and gives none
   */
  public injectInto(workload: SecretWorkload): this {
    checkAgentTarget(this, this.domain, 'VaultDatabaseCredentials', workload);
    const shape = this.shapeFor(workload);
    const quitAgent = shape === DatabaseCredentialsShape.SIDECAR_WITH_QUIT;
    const envVars = this.props.envVars;
    if (quitAgent || envVars) {
      workload._wrapCommand(this, { envFile: envVars ? `${this.mountPath}/env` : undefined, envVars: envVars ? [envVars.username, envVars.password] : [], quitAgent });
    }
    const user = envVars?.username ?? 'DB_USERNAME';
    const password = envVars?.password ?? 'DB_PASSWORD';
    annotateAgent(workload, {
      role: this.props.vaultRole,
      vaultNamespace: this.props.vaultNamespace,
      authPath: this.props.authPath,
      name: this.props.name,
      vaultPath: this.vaultPath,
      mountPath: this.mountPath,
      // The agent fetches a path once for all its templates: the three files hold one lease's
      // credentials (and the env file reads both in one template anyway).
      files: [
        { file: 'username', body: '{{ .Data.username }}' },
        { file: 'password', body: '{{ .Data.password }}' },
        { file: 'env', body: `${user}='{{ .Data.username }}'\n${password}='{{ .Data.password }}'\n` },
      ],
      prePopulateOnly: shape === DatabaseCredentialsShape.INIT_ONLY,
      extra: quitAgent ? { 'agent-enable-quit': 'true', 'agent-cache-listener-port': String(VAULT_AGENT_PORT) } : undefined,
    });
    this.shapes.set(workload, shape);
    return this;
  }

  private shapeFor(workload: SecretWorkload): DatabaseCredentialsShape {
    if (!workload.runsToCompletion) return DatabaseCredentialsShape.SIDECAR;
    const deadline = workload instanceof SecretMountedJob ? workload.activeDeadlineSeconds : undefined;
    const { default: ttl, max, login } = this.ttlSeconds;
    if (deadline === undefined) {
      throw constructError(
        workload,
        `reads database credentials of ${this.node.path}, which live at most ${seconds(max)} (maxTtl ${quote(this.props.maxTtl)}), but sets no activeDeadlineSeconds, so it could outlive them`,
        `set activeDeadlineSeconds to at most ${max}`,
      );
    }
    if (deadline > max) {
      throw constructError(
        workload,
        `activeDeadlineSeconds ${deadline} exceeds the max TTL of the database credentials of ${this.node.path} (maxTtl ${quote(this.props.maxTtl)} = ${max}s): no renewal can keep them alive that long`,
        `lower activeDeadlineSeconds to at most ${max}, or raise the role's max_ttl in Vault and maxTtl here`,
      );
    }
    return deadline < Math.min(ttl, login) ? DatabaseCredentialsShape.INIT_ONLY : DatabaseCredentialsShape.SIDECAR_WITH_QUIT;
  }
}

function seconds(value: number): string {
  return `${value}s`;
}

function checkRole(path: string, role: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(role)) {
    throw constructError(path, `role ${quote(role)} is not a database role name (letters, digits, "_", "." and "-")`, 'give the role of the database secrets engine, e.g. "app-readwrite"');
  }
}

/** The TTLs in seconds, checked: positive durations, defaultTtl <= maxTtl. */
function checkTtls(path: string, props: DatabaseRoleTtls): { defaultTtl: number; maxTtl: number; loginTtl: number; lifetime: number } {
  const read = (field: keyof DatabaseRoleTtls, fallback?: string): number => {
    const value = props[field] ?? fallback;
    requireString(path, field, value, `write it like "1h", as the role's ${field === 'loginTtl' ? 'login token_ttl' : field} in Vault`);
    const parsed = parseDuration(value!);
    if (parsed === undefined || parsed <= 0) throw constructError(path, `${field} ${quote(value)} is not a positive duration`, 'write it like "1h" or "30m"');
    return Math.floor(parsed);
  };
  const defaultTtl = read('defaultTtl');
  const maxTtl = read('maxTtl');
  const loginTtl = read('loginTtl', '1h');
  if (defaultTtl > maxTtl) throw constructError(path, `defaultTtl ${quote(props.defaultTtl)} is longer than maxTtl ${quote(props.maxTtl)}`, 'give the role\'s default_ttl and max_ttl as Vault has them');
  return { defaultTtl, maxTtl, loginTtl, lifetime: Math.min(defaultTtl, loginTtl) };
}

function checkAgentProps(path: string, props: VaultDatabaseCredentialsProps): void {
  requireProps(path, props, "{ role: 'app-readwrite', vaultRole: 'floe-sales', name: 'orders-db', defaultTtl: '1h', maxTtl: '24h' }");
  requireString(path, 'role', props.role, 'give the database role, e.g. "app-readwrite"');
  requireString(path, 'vaultRole', props.vaultRole, 'give the Vault role bound to the workload\'s ServiceAccount, e.g. "floe-sales"');
  requireString(path, 'name', props.name, 'give the directory name, e.g. "orders-db"; files appear in /run/secrets/<name>/');
  optionalString(path, 'mount', props.mount, 'give the database engine mount, e.g. "database"');
  optionalString(path, 'vaultNamespace', props.vaultNamespace, 'give the Vault Enterprise namespace');
  optionalString(path, 'authPath', props.authPath, 'give the path of the Kubernetes auth method, e.g. "auth/kubernetes"');
  checkRole(path, props.role);
  if (props.vaultRole.trim() === '') throw constructError(path, 'vaultRole is empty', 'give the Vault role bound to the workload\'s ServiceAccount');
  if (props.mount !== undefined) checkKvPath(path, 'mount', props.mount, 'give the mount path without slashes, e.g. "database"');
  const nameProblem = dnsSubdomainProblem(props.name);
  if (nameProblem) throw constructError(path, `name ${quote(props.name)} ${nameProblem}`, 'use a name such as "orders-db"; files appear in /run/secrets/<name>/');
  if (props.envVars !== undefined) {
    requireRecord(path, 'envVars', props.envVars, 'give { username: "DB_USER", password: "DB_PASSWORD" }');
    for (const field of ['username', 'password'] as const) {
      const name = props.envVars[field];
      requireString(path, `envVars.${field}`, name, 'give an env var name such as "DB_PASSWORD"');
      if (!isEnvVarName(name)) throw constructError(path, `envVars.${field} ${quote(name)} is not an env var name`, 'use letters, digits and "_", not starting with a digit, e.g. "DB_PASSWORD"');
    }
    if (props.envVars.username === props.envVars.password) throw constructError(path, `envVars names ${quote(props.envVars.username)} twice`, 'give the username and the password different names');
  }
}

