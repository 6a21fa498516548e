import { DEFAULT_DATABASE_MOUNT } from '@floe-secrets/vault';
import { Argument, Command as Commander, Option } from 'commander';
import { vaultBackend } from '../backend';
import { CliCommand, manifestOption, outputOption } from '../command';
import { CliError, ExitCode } from '../io';

/** `1h0m0s`-style durations, as Vault prints them (vault-policies writes Vault's shortest form, `1h`). */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** `floe-secrets creds ROLE [--mount database] [-o text|json] [--reveal]`: new database credentials with their lease. */
export const creds: CliCommand = {
  name: 'creds',
  examples: [
    ['floe-secrets creds readonly', 'a new database user: lease, TTL, expiry, username'],
    ['floe-secrets creds readonly --reveal', 'on a terminal: the password too'],
    ['floe-secrets creds etl --mount postgres -o json', 'another mount; the lease as JSON'],
  ],
  define: () => new Commander('creds')
    .summary('get dynamic database credentials from Vault (lease, TTL, username)')
    .description('Reads new credentials for ROLE from Vault\'s database secrets engine: Vault\ncreates a database user and answers its name and password with a lease.\nPrints the lease id, TTL, expiry, whether it renews, and the username. The\npassword is shown only with --reveal, and only on a terminal. The lease ends\nat its TTL, with `floe-secrets revoke LEASE`, or when the Vault token that\nread it is revoked. Needs the vault backend and "read" on <mount>/creds/<ROLE>.')
    .addArgument(new Argument('<ROLE>', 'the role of the database secrets engine, e.g. readonly'))
    .addOption(new Option('--mount <path>', 'where the database secrets engine is mounted').default(DEFAULT_DATABASE_MOUNT))
    .addOption(outputOption(['text', 'json'], 'text'))
    .option('--reveal', 'also show the password (only to a terminal)')
    .addOption(manifestOption()),
  run: async ([role], options, io) => {
    if (options.reveal && !io.stdoutIsTTY) {
      throw new CliError('refusing to write a database password to a pipe or a file; run it on a terminal to see it, or leave --reveal out');
    }
    const plugin = await vaultBackend(options.manifest as string, io, 'creds');
    const got = await plugin.getDatabaseCredentials(role, { mount: options.mount as string });
    const shown = {
      lease_id: got.leaseId,
      lease_duration: got.leaseDurationSeconds,
      expires_at: got.expiresAt.toISOString(),
      renewable: got.renewable,
      username: got.username.reveal(),
      ...(options.reveal ? { password: got.password.reveal() } : {}),
    };
    if (options.output === 'json') {
      io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    } else {
      const rows: Array<[string, string]> = [
        ['lease_id', shown.lease_id],
        ['lease_duration', `${duration(shown.lease_duration)} (${shown.lease_duration} s)`],
        ['expires_at', shown.expires_at],
        ['renewable', String(shown.renewable)],
        ['username', shown.username],
        ['password', options.reveal ? got.password.reveal() : '(not shown; --reveal on a terminal shows it)'],
      ];
      io.stdout.write(rows.map(([k, v]) => `${k.padEnd(15)} ${v}\n`).join(''));
    }
    return ExitCode.OK;
  },
};
