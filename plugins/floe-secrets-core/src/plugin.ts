import { SpanStatusCode, trace } from '@opentelemetry/api';
import { AuditAction, AuditLogger, LeaseAuditAction } from './audit';
import { ConnectionError, NotImplementedError, SecretsConfigError, SecretsError } from './errors';
import { isDescribedFailure } from './http';
import { checkKey, checkValue, KeyRules } from './keys';
import { DEFAULT_RETRY_POLICY, retryAfterOf, RetryPolicy, TimeoutError, withRetry, withTimeout } from './resilience';


/** What a plugin call is, for its span, audit event and error mapping: a key-value call or a lease call. */
export type PluginCallAction = AuditAction | LeaseAuditAction;

/** The floe plugin API version this host implements. */
export const FLOE_API_VERSION = '1.0';

/**
 * What every plugin says about itself: its name and the floe API version it needs.
 *
 * @requirement CR-001
 */
export interface PluginMetadata {
  /** Unique name, e.g. `k8s`, `infisical`, `vault`. */
  readonly name: string;
  /** The plugin's own semantic version. */
  readonly version: string;
  /** The minimum floe plugin API version, `major.minor`. */
  readonly floeApiVersion: string;
}

/**
 * The result of a health check.
 *
 * @requirement CR-002
 */
export interface HealthStatus {
  /** `healthy` when the backend answered as expected. */
  readonly state: 'healthy' | 'unhealthy';
  /** Why it is unhealthy: the error class and a message that carries no secret. */
  readonly message?: string;
  /** How long the check took. */
  readonly durationMs: number;
}

/**
 * A `secretKeyRef` env entry.
 *
 * @requirement seed 001 "K8s Integration"
 */
export interface SecretKeyEnvVar {
  readonly name: string;
  readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

/** Options every plugin takes besides its backend configuration. */
export interface PluginOptions {
  /**
   * Where every attempt is recorded.
   *
   * @default - no audit log
   * @requirement REQ-140
   */
  readonly audit?: AuditLogger;
  /**
   * Retries of transient failures.
   *
   * @default DEFAULT_RETRY_POLICY
   */
  readonly retry?: RetryPolicy;
  /**
   * Time a health check may take before it reports unhealthy; the floe plugin contract asks for
   * 5 s at most.
   *
   * @default 4500
   * @requirement CR-002
   */
  readonly healthTimeoutMs?: number;
}

const tracer = trace.getTracer('@floe-secrets/core');

/**
 * The SecretsPlugin contract with everything around the backend call done once: key and value
 * checks before anything is sent, timeouts, retries of transient failures, an OpenTelemetry span
 * per call (the key as attribute, never the value), an audit event per attempt, and error mapping
 * so that only {@link SecretsError}s escape.
 *
 * A backend implements the `backend*` methods and {@link SecretsPlugin.classify}.
 *
 * @requirement seed 001
 * @requirement REQ-131
 */
export abstract class SecretsPlugin implements PluginMetadata {
  public abstract readonly name: string;
  public abstract readonly version: string;
  public readonly floeApiVersion: string = FLOE_API_VERSION;

  /** The identity the plugin acts as, for the audit log. */
  public abstract get requester(): string;

  /** What the backend accepts as a key. */
  protected abstract readonly keyRules: KeyRules;
  private readonly options: PluginOptions;

  protected constructor(options: PluginOptions = {}) {
    this.options = options;
  }

  /**
   * The value of `key`, or undefined when there is no such secret: missing is not an error.
   *
   * @requirement CR-004
   */
  public async getSecret(key: string): Promise<string | undefined> {
    return this.call('get', key, () => checkKey(this.name, key, this.keyRules), (signal) => this.backendGet(key, signal));
  }

  /** Creates or updates `key`. The value and metadata are never logged. */
  public async setSecret(key: string, value: string, metadata?: { readonly [name: string]: string }): Promise<void> {
    await this.call('set', key, () => {
      checkKey(this.name, key, this.keyRules);
      checkValue(this.name, key, value);
    }, (signal) => this.backendSet(key, value, metadata ?? {}, signal));
  }

  /** The keys that start with `prefix`, sorted. */
  public async listSecrets(prefix = ''): Promise<string[]> {
    const keys = await this.call('list', prefix, () => {
      if (prefix !== '') checkKey(this.name, prefix.replace(/\/$/, ''), this.keyRules, 'prefix');
    }, (signal) => this.backendList(prefix, signal));
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  /**
   * Every key and value of a multi-key secret. Backends that have no such notion throw
   * {@link NotImplementedError}, which callers may test for.
   */
  public async getMultiKeySecret(name: string): Promise<{ [key: string]: string }> {
    return this.call('get-multi', name, () => checkKey(this.name, name, this.keyRules, 'name'), (signal) => this.backendGetMulti(name, signal));
  }

  /**
   * Checks the backend. Never throws, and answers within {@link PluginOptions.healthTimeoutMs}
   * whatever the backend does.
   *
   * @requirement CR-002
   */
  public async healthCheck(): Promise<HealthStatus> {
    const started = Date.now();
    return tracer.startActiveSpan('floe.secrets.health', { attributes: { 'floe.secrets.plugin': this.name } }, async (span): Promise<HealthStatus> => {
      try {
        await withTimeout(this.options.healthTimeoutMs ?? 4_500, (signal) => this.backendHealth(signal));
        this.audit('health', undefined);
        return { state: 'healthy', durationMs: Date.now() - started };
      } catch (error) {
        const mapped = this.map(error, 'health', undefined);
        this.audit('health', undefined, mapped);
        span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.name });
        return { state: 'unhealthy', message: `${mapped.name}: ${mapped.message}`, durationMs: Date.now() - started };
      } finally {
        span.end();
      }
    });
  }

  /** `{ envFrom: [{ secretRef: { name } }] }`: every key of a Kubernetes Secret as env vars. */
  public generatePodEnvSpec(secretName: string): { envFrom: Array<{ secretRef: { name: string } }> } {
    return { envFrom: [{ secretRef: { name: secretName } }] };
  }

  /**
   * Env var name to `<secret>/<key>`, as `secretKeyRef` entries.
   *
   * @throws SecretsConfigError when a reference is not `<secret>/<key>`
   * @requirement seed 000 `inject_env_vars`
   */
  public injectEnvVars(refs: { readonly [envVar: string]: string }): { env: SecretKeyEnvVar[] } {
    return {
      env: Object.entries(refs).map(([name, ref]) => {
        const [secret, key, ...rest] = ref.split('/');
        if (!secret || !key || rest.length > 0) {
          throw new SecretsConfigError(`${this.name}: env var ${name} references ${JSON.stringify(ref)}; write it as "<secret>/<key>", e.g. "db-creds/password"`, this.name);
        }
        return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
      }),
    };
  }

  /** Reads one key; undefined when it does not exist. */
  protected abstract backendGet(key: string, signal: AbortSignal): Promise<string | undefined>;
  /** Creates or updates one key. */
  protected abstract backendSet(key: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void>;
  /** Lists keys; may return more than the prefix selects (the base class filters). */
  protected abstract backendList(prefix: string, signal: AbortSignal): Promise<string[]>;
  /** Proves the backend answers and accepts the credentials; throws otherwise. */
  protected abstract backendHealth(signal: AbortSignal): Promise<void>;

  /** Reads a whole multi-key secret. */
  protected async backendGetMulti(_name: string, _signal: AbortSignal): Promise<{ [key: string]: string }> {
    throw new NotImplementedError(`${this.name}: multi-key secrets are not supported by this backend; read the keys one by one`, this.name);
  }

  /**
   * Turns a backend error into a {@link SecretsError}, or says it is `transient` (worth a retry;
   * it becomes a {@link ConnectionError} when retries run out). Never copy a response body into
   * the message: it may hold a value.
   */
  protected abstract classify(error: unknown, action: PluginCallAction, key: string | undefined): SecretsError | 'transient';

  /**
   * One call with the contract's resilience: `check` first (nothing sent when it throws), retries
   * of what {@link classify} calls transient, a tracing span `floe.secrets.<action>`, one audit
   * event, and only {@link SecretsError}s out. Backends use it for their own calls too (the Vault
   * plugin's lease calls).
   */
  protected async call<T>(action: PluginCallAction, key: string, check: () => void, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return tracer.startActiveSpan(`floe.secrets.${action}`, { attributes: { 'floe.secrets.plugin': this.name, 'floe.secrets.key': key } }, async (span) => {
      try {
        check();
        const result = await withRetry(this.options.retry ?? DEFAULT_RETRY_POLICY, (e) => this.classify(e, action, key) === 'transient', fn);
        this.audit(action, key);
        return result;
      } catch (error) {
        const mapped = this.map(error, action, key);
        this.audit(action, key, mapped);
        span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.name });
        throw mapped;
      } finally {
        span.end();
      }
    });
  }

  private map(error: unknown, action: PluginCallAction, key: string | undefined): SecretsError {
    if (error instanceof SecretsError) return error;
    const what = key === undefined ? action : `${action} ${JSON.stringify(key)}`;
    let classified: SecretsError | 'transient';
    try {
      classified = this.classify(error, action, key);
    } catch {
      classified = 'transient';
    }
    if (classified !== 'transient') return classified;
    return new ConnectionError(`${this.name}: ${what} failed: ${this.transientSummary(error)}`, this.name, key);
  }

  /**
   * Says why a call failed after its retries ran out, from the last transient error: no answer in
   * time, refused, TLS, reset, or the status and Retry-After the server answered. Backends may say
   * more (e.g. that an answer means a rate limit). Never quote a body.
   */
  protected transientSummary(error: unknown): string {
    if (error instanceof TimeoutError) return `got no answer within ${error.ms} ms; check the backend address and that it is up`;
    if (isDescribedFailure(error)) {
      const wait = retryAfterOf(error);
      const beyond = wait !== undefined && wait > (this.options.retry ?? DEFAULT_RETRY_POLICY).totalTimeoutMs
        ? '; the server asked to wait longer than this call may take' : '';
      return `${error.summary}${beyond}`;
    }
    return 'could not reach the backend; check the backend address and that it is up';
  }

  private audit(action: PluginCallAction, key: string | undefined, error?: SecretsError): void {
    this.options.audit?.record({
      requester: this.requester,
      action,
      plugin: this.name,
      ...(key !== undefined ? { key } : {}),
      outcome: error ? 'failure' : 'success',
      ...(error ? { errorClass: error.name } : {}),
    });
  }
}
