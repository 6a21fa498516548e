import { Command } from '../io';
import { accessMap } from './access-map';
import { scan } from './scan';

/** Every command of the CLI, by name. */
export const COMMANDS: { readonly [name: string]: Command } = {
  'access-map': accessMap,
  scan,
};
