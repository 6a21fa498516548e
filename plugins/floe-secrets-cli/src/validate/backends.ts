import { SecretsBackendConfig, SecretsPlugin } from '@floe-secrets/core';
import { InfisicalSecretsPlugin, ProjectRef, ProjectScope } from '@floe-secrets/infisical';

/** The live cluster, as validate needs it: key names only, never values. */
export interface ClusterReader {
  /** The key names of Secret `namespace/name` (empty when it does not exist). */
  keysOf(namespace: string, name: string): Promise<string[]>;
  hasApiResource(group: string, version: string, plural: string): Promise<boolean>;
}

/** The secrets backend of manifest.yaml, as validate reaches it. */
export interface Backend {
  /** The manifest path, as the user gave it (for messages). */
  readonly manifestPath: string;
  readonly config: SecretsBackendConfig;
  /** The plugin; absent when the backend did not answer (see `unavailable`) or is not read by validate (k8s). */
  readonly plugin?: SecretsPlugin;
  /** Why the backend cannot be read, when it cannot. */
  readonly unavailable?: string;
}

/**
 * Why `backend` cannot check content that lives in `wanted`, or undefined when it can: the
 * manifest configures another backend, or the backend did not answer.
 */
export function notCheckable(backend: Backend, wanted: 'infisical' | 'vault'): string | undefined {
  if (backend.config.type !== wanted) return `${backend.manifestPath} configures the ${backend.config.type} backend, not ${wanted}`;
  if (!backend.plugin) return backend.unavailable ?? `${wanted} is not available`;
  return undefined;
}

/** Progress of a long check, drawn on a terminal; see progress.ts. */
export interface ProgressSink {
  /** A new phase of `total` steps. */
  start(phase: string, total: number): void;
  /** One step done. */
  tick(): void;
}

/**
 * The reads validate makes, each at most once however many references need it: Secrets of the
 * cluster, Vault secrets and Infisical folders. Only key and field names leave this class;
 * values (which Vault and Kubernetes return with the names) are dropped as soon as they arrive.
 */
export class BackendReads {
  /** Reads of secrets, folders and Vault paths made (project lookups aside). */
  public calls = 0;
  readonly #memo = new Map<string, Promise<Set<string>>>();
  readonly #projects = new Map<string, Promise<ProjectScope | undefined>>();
  #health: Promise<string | undefined> | undefined;

  public constructor(private readonly cluster: ClusterReader, private readonly backend: Backend) {}

  /** The key names of Secret `namespace/name` in the cluster; empty when it does not exist. */
  public clusterKeys(namespace: string, name: string): Promise<Set<string>> {
    return this.once(`cluster ${namespace}/${name}`, async () => new Set(await this.cluster.keysOf(namespace, name)));
  }

  /** The field names of the KV v2 secret at `path` (relative to the mount); empty when there is none. */
  public vaultFields(path: string): Promise<Set<string>> {
    return this.once(`vault ${path}`, async () => new Set(Object.keys(await this.pluginOf('vault').getMultiKeySecret(path))));
  }

  /**
   * The secret names in the Infisical folder `prefix` (relative to manifest.yaml's secrets_path,
   * ending in `/` unless empty): its own secrets, or with `recursive` those of its sub-folders too.
   */
  public infisicalKeys(prefix: string, recursive: boolean): Promise<Set<string>> {
    return this.once(`infisical ${prefix} ${recursive}`, async () => {
      const listed = (await this.pluginOf('infisical').listSecrets(prefix)).map((k) => k.slice(prefix.length));
      return new Set(recursive ? listed.map((k) => k.slice(k.lastIndexOf('/') + 1)) : listed.filter((k) => !k.includes('/')));
    });
  }

  /**
   * The Infisical project `ref` names (by id or slug), as the backend knows it; undefined when it
   * knows none. `ref` undefined: manifest.yaml's own project. Asked once per project.
   */
  public infisicalProject(ref?: ProjectRef): Promise<ProjectScope | undefined> {
    const key = ref === undefined ? 'own' : ref.id !== undefined ? `id ${ref.id}` : `slug ${ref.slug}`;
    let pending = this.#projects.get(key);
    if (!pending) {
      // Project lookups read no secret and are not counted in `calls`.
      const plugin = this.pluginOf('infisical') as InfisicalSecretsPlugin;
      pending = ref === undefined ? plugin.project() : plugin.findProject(ref);
      this.#projects.set(key, pending);
    }
    return pending;
  }

  /**
   * Why the backend of manifest.yaml cannot be read (its health check failed), or undefined when it
   * can; checked once, before the first read of a check that needs it.
   */
  public unhealthy(): Promise<string | undefined> {
    this.#health ??= (async () => {
      const plugin = this.backend.plugin;
      if (!plugin) return this.backend.unavailable ?? 'not available';
      const health = await plugin.healthCheck();
      return health.state === 'healthy' ? undefined : health.message ?? 'unhealthy';
    })();
    return this.#health;
  }

  private pluginOf(type: 'vault' | 'infisical'): SecretsPlugin {
    const why = notCheckable(this.backend, type);
    if (why) throw new Error(`internal: ${type} read without a ${type} backend (${why})`);
    return this.backend.plugin!;
  }

  private once(key: string, read: () => Promise<Set<string>>): Promise<Set<string>> {
    let pending = this.#memo.get(key);
    if (!pending) {
      this.calls++;
      pending = read();
      this.#memo.set(key, pending);
    }
    return pending;
  }
}
