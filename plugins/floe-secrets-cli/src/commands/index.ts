import { accessMap } from './access-map';
import { completion } from './completion';
import { scan } from './scan';
import { get, health, list, rotate, set } from './secrets';
import { validate } from './validate';
import { CliCommand } from '../command';

/** Every command of the CLI, in the order of the help. */
export const COMMANDS: readonly CliCommand[] = [validate, accessMap, scan, get, set, list, health, rotate, completion];
