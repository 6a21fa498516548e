/** What a command reads and writes; the real process in main.ts, buffers in tests. */
export interface CliIO {
  /** Standard output: reports, JSON, values (only where the command allows it). */
  readonly stdout: { write(text: string): unknown };
  /** Standard error: progress, warnings, errors. */
  readonly stderr: { write(text: string): unknown };
  /** Whether stdout is a terminal (values may be shown). */
  readonly stdoutIsTTY: boolean;
  /** Whether stderr is a terminal (progress may be drawn there). */
  readonly stderrIsTTY: boolean;
  /** The environment. */
  readonly env: { readonly [name: string]: string | undefined };
  /** The working directory. */
  readonly cwd: string;
  /** The width of the terminal stdout is, for help text; default: 80 columns. */
  readonly columns?: number;
  /** Reads all of standard input (for values that must never come from argv). */
  readStdin(): Promise<string>;
}

/** The most standard input read as a secret value (1 MiB, what a Kubernetes Secret holds at most). */
export const MAX_STDIN_BYTES = 1024 * 1024;

/** Exit codes every command uses. */
export enum ExitCode {
  /** All good. */
  OK = 0,
  /** Problems found (missing secrets, findings, over-broad RBAC). */
  PROBLEMS = 1,
  /** Could not check: bad arguments, unreadable input, unreachable backend. */
  ERROR = 2,
}

/**
 * Reports a failed command: one line `floe-secrets <command>: <message>` on stderr (`floe-secrets:
 * <message>` before a command is known) and, when the command line asked for JSON output (`-o
 * json`), `{"error":{"message":...,"exitCode":...}}` on stdout, so that a script reading stdout gets
 * a JSON document either way. The message is the one stderr gets, which never holds a value.
 */
export function writeFailure(io: CliIO, command: string | undefined, message: string, exitCode: ExitCode, json: boolean): void {
  io.stderr.write(`floe-secrets${command === undefined ? '' : ` ${command}`}: ${message}\n`);
  if (json) io.stdout.write(`${JSON.stringify({ error: { message, exitCode } }, null, 2)}\n`);
}

/** A failure that ends a command with a message (no stack trace) and exit code 2. */
export class CliError extends Error {
  public constructor(message: string, public readonly exitCode: ExitCode = ExitCode.ERROR) {
    super(message);
    this.name = 'CliError';
  }
}
