/**
 * A throwaway PostgreSQL cluster for tests: Debian's PostgreSQL (`apt-get install postgresql`, which
 * scripts/test-tools.sh does before the suite) initialized in a new temporary directory and started
 * there, listening on no TCP port at all, only on a unix socket inside that directory (0700, so no
 * other user of the machine can reach it). As root it runs as the `postgres` system user (the
 * server refuses to run as root), through `runuser`; as any other user, as that user.
 *
 * Statements are sent to `psql` on its standard input, never on its command line (where every
 * user's `ps` would show a password), and passwords go in `PGPASSWORD`, never in argv.
 * {@link PostgresTestCluster.stop} stops the server (`pg_ctl stop -m immediate`) and removes the
 * directory: no process and no file stays behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The directory of Debian's PostgreSQL programs: `$PG_BINDIR`, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** What one psql run gave. */
export interface PsqlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `program args` with `input` on stdin; resolves with its exit status and output. */
function run(program: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** See the file comment. */
export class PostgresTestCluster {
  /**
   * Initializes and starts a cluster in a new temporary directory.
   *
   * @throws Error when PostgreSQL is not installed (run scripts/test-tools.sh) or does not start
   */
  public static async start(): Promise<PostgresTestCluster> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL is not installed: run scripts/test-tools.sh (apt-get install postgresql), or set PG_BINDIR');
    const dir = mkdtempSync(join(tmpdir(), 'floe-pg-'));
    const asRoot = userInfo().uid === 0;
    if (asRoot) chownSync(dir, postgresUid(), postgresGid());
    const cluster = new PostgresTestCluster(bin, dir, asRoot);
    try {
      await cluster.server('initdb', ['-D', cluster.data, '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
      // Only the admin, over the socket, without a password; everyone else with theirs. No TCP at all.
      writeFileSync(join(cluster.data, 'pg_hba.conf'), 'local all postgres trust\nlocal all all scram-sha-256\n');
      await cluster.server('pg_ctl', ['-D', cluster.data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
        `-c listen_addresses='' -c unix_socket_directories='${dir}' -c fsync=off`, 'start']);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The directory holding the data and the socket. */
  public readonly dir: string;
  private readonly bin: string;
  private readonly asRoot: boolean;
  private stopped = false;

  private constructor(bin: string, dir: string, asRoot: boolean) {
    this.bin = bin;
    this.dir = dir;
    this.asRoot = asRoot;
  }

  /** The data directory. */
  public get data(): string {
    return join(this.dir, 'data');
  }

  /** A libpq connection URI for the admin (`postgres`) over the socket, as Vault's `connection_url` takes it. */
  public get adminUrl(): string {
    return `postgresql://{{username}}:{{password}}@/postgres?host=${encodeURIComponent(this.dir)}`;
  }

  /** The psql program. */
  public get psqlPath(): string {
    return join(this.bin, 'psql');
  }

  /** Runs SQL as `user` (default the admin `postgres`, without password) over the socket; statements on stdin. */
  public async psql(sql: string, options: { user?: string; password?: string } = {}): Promise<PsqlResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: this.dir, PGDATABASE: 'postgres', PGUSER: options.user ?? 'postgres', PGCONNECT_TIMEOUT: '10' };
    delete env.PGPASSWORD;
    if (options.password !== undefined) env.PGPASSWORD = options.password;
    return run(this.psqlPath, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'], { input: sql, env });
  }

  /** Whether a role of that name exists (pg_roles). */
  public async roleExists(name: string): Promise<boolean> {
    const result = await this.psql(`SELECT count(*) FROM pg_roles WHERE rolname = '${name.replace(/'/g, "''")}';\n`);
    if (result.status !== 0) throw new Error(`psql failed (${result.status}): ${result.stderr.trim()}`);
    return result.stdout.trim() === '1';
  }

  /** The role's VALID UNTIL (pg_roles.rolvaliduntil) as a Date; undefined when none or no such role. */
  public async validUntil(name: string): Promise<Date | undefined> {
    const result = await this.psql(`SELECT extract(epoch FROM rolvaliduntil) FROM pg_roles WHERE rolname = '${name.replace(/'/g, "''")}';\n`);
    if (result.status !== 0) throw new Error(`psql failed (${result.status}): ${result.stderr.trim()}`);
    const text = result.stdout.trim();
    return text === '' ? undefined : new Date(Number(text) * 1000);
  }

  /** Whether `user` can log in with `password` (and `SELECT current_user` answers its own name). */
  public async canLogin(user: string, password: string): Promise<boolean> {
    const result = await this.psql('SELECT current_user;\n', { user, password });
    return result.status === 0 && result.stdout.trim() === user;
  }

  /** Stops the server and removes the directory (idempotent). */
  public async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (existsSync(join(this.data, 'postmaster.pid'))) {
      await this.server('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs a server program (initdb, pg_ctl) as the `postgres` user when we are root. */
  private async server(program: string, args: readonly string[]): Promise<void> {
    const path = join(this.bin, program);
    const result = this.asRoot ? await run('runuser', ['-u', 'postgres', '--', path, ...args]) : await run(path, args);
    if (result.status !== 0) throw new Error(`${program} failed (${result.status}): ${result.stderr.trim()}`);
  }
}

function postgresUid(): number {
  return Number(idOf('-u'));
}

function postgresGid(): number {
  return Number(idOf('-g'));
}

/** `id -u postgres` / `id -g postgres` (the Debian package creates the user). */
function idOf(flag: '-u' | '-g'): string {
  return execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim();
}
