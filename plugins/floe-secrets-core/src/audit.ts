import { appendFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';

/** What a secrets call was. */
export type AuditAction = 'get' | 'set' | 'list' | 'get-multi' | 'health';

/** What an identity call was: a token validation, a user info request, or a health check. */
export type IdentityAuditAction = 'validate-token' | 'userinfo' | 'health';

/** What a lease call was: dynamic credentials asked for, a lease renewed, revoked or looked up. */
export type LeaseAuditAction = 'creds' | 'renew' | 'revoke' | 'lookup';

/**
 * One secret access or token validation attempt: who, what, which key or subject, and how it
 * ended. Never the value, never a token.
 *
 * @requirement REQ-140
 * @requirement CR-006
 */
export interface AuditEvent {
  /** ISO 8601 time of the attempt's end. */
  readonly timestamp: string;
  /** The identity the plugin acts as (a ServiceAccount, a machine identity's client id, a Vault role). */
  readonly requester: string;
  /** The operation. */
  readonly action: AuditAction | IdentityAuditAction | LeaseAuditAction;
  /** The plugin, e.g. `k8s`. */
  readonly plugin: string;
  /** The secret key or list prefix; absent for health checks and identity calls. */
  readonly key?: string;
  /** Identity calls: the subject (`sub`) of a token that was verified; absent when it was not. */
  readonly subject?: string;
  /** Identity calls: the realm of a token that was verified. */
  readonly realm?: string;
  /**
   * The person a tool made the call for: the subject of the verified token the floe-secrets CLI
   * was given, when the manifest configures an identity plugin.
   */
  readonly onBehalfOf?: string;
  /** `success` or `failure`. */
  readonly outcome: 'success' | 'failure';
  /** The error class on failure: PermissionError, ConnectionError, SecretsConfigError, ... */
  readonly errorClass?: string;
  /** The OpenTelemetry trace id, when a span is active. */
  readonly traceId?: string;
  /** The OpenTelemetry span id, when a span is active. */
  readonly spanId?: string;
}

/** Where audit events go. */
export interface AuditSink {
  /** Records one event; must not throw. */
  write(event: AuditEvent): void;
}

/** One JSON line per event on a stream (stdout by default), for log shippers. */
export class JsonLinesAuditSink implements AuditSink {
  public constructor(private readonly out: { write(line: string): unknown } = process.stdout) {}

  public write(event: AuditEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }
}

/** Options of a {@link FileAuditSink}. */
export interface FileAuditSinkOptions {
  /** The directory of the daily files `audit-YYYY-MM-DD.jsonl`. */
  readonly directory: string;
  /**
   * Days a file is kept; older files are deleted when the sink opens and when a new day starts.
   *
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * The clock, for tests.
   *
   * @default - the system clock
   */
  readonly now?: () => Date;
}

const FILE = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/**
 * One JSON line per event in a file per UTC day, with retention (default 90 days).
 *
 * @requirement REQ-140
 */
export class FileAuditSink implements AuditSink {
  /** Days a file is kept. */
  public readonly retentionDays: number;
  private readonly now: () => Date;
  private day = '';

  public constructor(private readonly options: FileAuditSinkOptions) {
    this.retentionDays = options.retentionDays ?? 90;
    if (!Number.isInteger(this.retentionDays) || this.retentionDays < 1) {
      throw new RangeError(`retentionDays ${this.retentionDays} is not a whole number of days of at least 1; pass e.g. 90`);
    }
    this.now = options.now ?? (() => new Date());
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    this.rollover();
  }

  public write(event: AuditEvent): void {
    this.rollover();
    appendFileSync(join(this.options.directory, `audit-${this.day}.jsonl`), `${JSON.stringify(event)}\n`, { mode: 0o600 });
  }

  /** Deletes the files older than the retention; returns their names. */
  public prune(): string[] {
    const cutoff = new Date(this.now().getTime() - this.retentionDays * 86_400_000).toISOString().slice(0, 10);
    const removed = readdirSync(this.options.directory).filter((name) => {
      const day = FILE.exec(name)?.[1];
      return day !== undefined && day < cutoff;
    });
    for (const name of removed) rmSync(join(this.options.directory, name), { force: true });
    return removed;
  }

  private rollover(): void {
    const today = this.now().toISOString().slice(0, 10);
    if (today === this.day) return;
    this.day = today;
    this.prune();
  }
}

/** Writes audit events to its sinks, adding the time, the active trace and whom the calls are made for. */
export class AuditLogger {
  /**
   * @param sinks where events go
   * @param onBehalfOf the person every event of this logger is for (see {@link AuditEvent.onBehalfOf})
   */
  public constructor(private readonly sinks: readonly AuditSink[], private readonly onBehalfOf?: string) {}

  /** Records one attempt. A failing sink never fails the secrets call. */
  public record(event: Omit<AuditEvent, 'timestamp' | 'traceId' | 'spanId'>): void {
    const context = trace.getActiveSpan()?.spanContext();
    const traced = context && context.traceId !== '00000000000000000000000000000000'
      ? { traceId: context.traceId, spanId: context.spanId }
      : {};
    const person = this.onBehalfOf ? { onBehalfOf: this.onBehalfOf } : {};
    const full: AuditEvent = { timestamp: new Date().toISOString(), ...event, ...person, ...traced };
    for (const sink of this.sinks) {
      try {
        sink.write(full);
      } catch {
        // An unwritable audit sink must not turn a secret read into a failure, nor leak through it.
      }
    }
  }
}
