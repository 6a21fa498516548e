import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built CLI, as npm installs it (`npm test` builds it first with `projen compile:plugins`). */
export const CLI = resolve(__dirname, '../lib/main.js');

/** What a run of the CLI gave. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** When (Date.now()) the CLI last wrote to stdout or stderr; undefined when it wrote nothing. */
  readonly lastOutputAt?: number;
  /** When (Date.now()) the process ended. */
  readonly exitedAt: number;
}

/**
 * Runs `floe-secrets <args>` as a subprocess. Asynchronous, so that test servers in this process
 * keep answering while it runs. Fails loudly when the CLI has not been built.
 *
 * With `tty`, the CLI runs on a pseudo-terminal made by util-linux `script`, as from an
 * interactive shell: its stdout and stderr are both the terminal, and arrive together in `stdout`.
 */
export async function runCli(
  args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {},
): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the plugin packages first (npx projen compile:plugins)`);
  const argv = [process.execPath, CLI, ...args];
  const [command, commandArgs] = options.tty
    ? ['script', ['--quiet', '--return', '--flush', '--command', argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' '), '/dev/null']]
    : [argv[0], argv.slice(1)];
  const child = spawn(command, commandArgs, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lastOutputAt: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    lastOutputAt = Date.now();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    lastOutputAt = Date.now();
  });
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let exitedAt = 0;
  child.on('exit', () => (exitedAt = Date.now()));
  const status = await new Promise<number>((done) => child.on('close', (code) => done(code ?? -1)));
  clearTimeout(timer);
  return { status, stdout, stderr, lastOutputAt, exitedAt };
}
