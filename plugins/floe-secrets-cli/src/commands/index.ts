import { accessMap } from './access-map';
import { completion } from './completion';
import { creds } from './creds';
import { plan } from './plan';
import { revoke } from './revoke';
import { scan } from './scan';
import { get, health, list, rotate, set } from './secrets';
import { validate } from './validate';
import { vaultPolicies } from './vault-policies';
import { CliCommand } from '../command';

/** Every command of the CLI, in the order of the help. */
export const COMMANDS: readonly CliCommand[] = [
  validate, accessMap, plan, vaultPolicies, scan, get, set, list, health, rotate, creds, revoke, completion,
];
