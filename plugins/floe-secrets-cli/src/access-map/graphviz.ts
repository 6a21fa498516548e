import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { CliError } from '../io';

/** What to say when Graphviz is not installed. */
export const GRAPHVIZ_MISSING = 'install graphviz (apt-get install graphviz) or use -o dot';

/** The path of an executable found in `PATH` (as given, not the process's own), or undefined. */
export function findExecutable(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue; // relative PATH entries would depend on the working directory
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Runs `dot -Tsvg -o outFile` on the DOT text; throws a CliError (exit 2) when dot is missing or fails. */
export async function renderSvg(dot: string, outFile: string, env: { readonly [name: string]: string | undefined }): Promise<void> {
  const executable = findExecutable('dot', env.PATH);
  if (!executable) throw new CliError(`--svg needs the Graphviz "dot" program, which is not on PATH: ${GRAPHVIZ_MISSING}`);
  try {
    mkdirSync(dirname(outFile), { recursive: true });
  } catch (error) {
    throw new CliError(`cannot create the directory of ${outFile}: ${(error as NodeJS.ErrnoException)?.code ?? 'error'}`);
  }
  const childEnv: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(executable, ['-Tsvg', '-o', outFile], { env: childEnv, stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (errors.length < 4000) errors += chunk;
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolvePromise({ code: exitCode, stderr: errors }));
    child.stdin.on('error', () => undefined); // dot may exit before reading everything; its exit code says why
    child.stdin.end(dot);
  }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`could not run ${executable}: ${error.code ?? error.name}`);
  });
  if (code !== 0) {
    const reason = stderr.trim().split('\n')[0] ?? '';
    throw new CliError(`dot -Tsvg failed (exit ${code ?? 'signal'})${reason ? `: ${reason}` : ''}`);
  }
}
