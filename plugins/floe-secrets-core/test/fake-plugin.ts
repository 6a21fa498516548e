import { AuditAction, ConnectionError, KeyRules, PermissionError, PluginOptions, SecretsError, SecretsPlugin } from '../src';

/** A failure the in-memory backend can be told to produce. */
export type Fault = 'none' | 'forbidden' | 'unreachable' | 'flaky' | 'hang' | 'crash';

/**
 * An in-memory backend for testing the base class itself (retries, audit, spans, error mapping).
 * Backends proper are tested against real servers or test servers of their HTTP APIs.
 */
export class InMemoryPlugin extends SecretsPlugin {
  public readonly name = 'memory';
  public readonly version = '1.0.0';
  public readonly store = new Map<string, string>();
  public fault: Fault = 'none';
  public calls = 0;
  /** Failures left before a `flaky` backend answers. */
  public flakyFailures = 2;
  protected readonly keyRules: KeyRules = { allowSlash: true };

  public constructor(options: PluginOptions = {}) {
    super(options);
  }

  public get requester(): string {
    return 'tester';
  }

  protected async backendGet(key: string): Promise<string | undefined> {
    await this.misbehave();
    return this.store.get(key);
  }

  protected async backendSet(key: string, value: string): Promise<void> {
    await this.misbehave();
    this.store.set(key, value);
  }

  protected async backendList(): Promise<string[]> {
    await this.misbehave();
    return [...this.store.keys()];
  }

  protected async backendHealth(): Promise<void> {
    await this.misbehave();
  }

  protected classify(error: unknown, _action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    if (error instanceof Error && error.message === 'forbidden') return new PermissionError('memory: forbidden', 'memory', key);
    if (error instanceof Error && error.message === 'down') return new ConnectionError('memory: down', 'memory', key);
    return 'transient';
  }

  private async misbehave(): Promise<void> {
    this.calls++;
    if (this.fault === 'forbidden') throw new Error('forbidden');
    if (this.fault === 'unreachable') throw new Error('down');
    if (this.fault === 'crash') throw new Error(`internal failure with body ${[...this.store.values()].join(',')}`);
    if (this.fault === 'hang') await new Promise(() => undefined);
    if (this.fault === 'flaky' && this.flakyFailures-- > 0) throw new Error('socket hang up');
  }
}
