import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built CLI, as npm installs it (`npm test` builds it first with `projen compile:plugins`). */
export const CLI = resolve(__dirname, '../lib/main.js');

/** Runs `floe-secrets <args>` as a subprocess. Fails loudly when the CLI has not been built. */
export function runCli(
  args: string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): { status: number; stdout: string; stderr: string } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the plugin packages first (npx projen compile:plugins)`);
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    input: options.input ?? '',
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
