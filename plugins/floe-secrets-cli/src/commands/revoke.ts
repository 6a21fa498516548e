import { PermissionError } from '@floe-secrets/core';
import { Argument, Command as Commander } from 'commander';
import { vaultBackend } from '../backend';
import { CliCommand, manifestOption } from '../command';
import { ExitCode } from '../io';

/** `floe-secrets revoke LEASE`: revokes a Vault lease now (the database user is dropped). */
export const revoke: CliCommand = {
  name: 'revoke',
  examples: [
    ['floe-secrets revoke database/creds/readonly/BQvurRJy0eccrDDM1DdmqcU5', 'drop that database user now'],
    ['floe-secrets revoke database/creds/etl/Xq3kP0aZl2mNn8vB7cD1eF4g -m platform/manifest.yaml', 'with another manifest'],
  ],
  define: () => new Commander('revoke')
    .summary('revoke a Vault lease now (dynamic credentials end)')
    .description('Revokes LEASE in Vault: Vault runs the role\'s revocation statements, so the\ndatabase user is dropped. Exit 1 when Vault holds no such lease (it expired,\nwas revoked, or its token was revoked). Needs the vault backend and "update"\non sys/leases/revoke, which Vault\'s default policy does not grant.')
    .addArgument(new Argument('<LEASE>', 'the lease id, e.g. database/creds/readonly/BQvurRJy0eccrDDM1DdmqcU5'))
    .addOption(manifestOption()),
  run: async ([lease], options, io) => {
    const plugin = await vaultBackend(options.manifest as string, io, 'revoke');
    // Vault answers a revoke of a lease it does not hold like a success: look it up first (the default policy grants it).
    let held = true;
    try {
      held = (await plugin.lookupLease(lease)) !== undefined;
    } catch (error) {
      if (!(error instanceof PermissionError)) throw error;
    }
    if (!held) {
      io.stderr.write(`${lease}: Vault holds no such lease (it expired, was revoked, or its token was revoked); nothing to revoke\n`);
      return ExitCode.PROBLEMS;
    }
    await plugin.revokeLease(lease);
    io.stderr.write(`revoked ${lease} in the vault backend\n`);
    return ExitCode.OK;
  },
};
