import { Command } from '../io';

/** Every command of the CLI, by name. */
export const COMMANDS: { readonly [name: string]: Command } = {};
