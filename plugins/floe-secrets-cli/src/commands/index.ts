import { Command } from '../io';
import { accessMap } from './access-map';
import { scan } from './scan';
import { get, health, list, rotate, set } from './secrets';
import { validate } from './validate';

/** Every command of the CLI, by name. */
export const COMMANDS: { readonly [name: string]: Command } = {
  validate,
  'access-map': accessMap,
  scan,
  get,
  set,
  list,
  health,
  rotate,
};
