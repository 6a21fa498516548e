#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { runCli } from './cli';
import { COMMANDS } from './commands';
import { CliError, CliIO, ExitCode, MAX_STDIN_BYTES } from './io';

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  readStdin: async () => (process.stdin.isTTY ? promptHidden('value (not shown): ') : readAll()),
  env: process.env,
  cwd: process.cwd(),
  columns: process.stdout.columns,
};

/** Reads standard input to its end, but never more than {@link MAX_STDIN_BYTES} (`set KEY < /dev/zero`). */
async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > MAX_STDIN_BYTES) {
      process.stdin.destroy();
      throw new CliError(`standard input holds more than ${MAX_STDIN_BYTES / (1024 * 1024)} MiB; a secret value is at most that (a Kubernetes Secret holds at most 1 MiB): pipe in the value alone`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
async function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  const answer = await new Promise<string>((done) => rl.question('', done));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

// A reader that goes away (`floe-secrets scan --help | head -1`) ends the command quietly, as a
// closed pipe ends any other command, instead of with an unhandled error and its stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(ExitCode.ERROR);
  });
}

void runCli(process.argv.slice(2), io, COMMANDS).then((code) => {
  // Exit once the output is flushed: nothing left open (a retry timer, a kept-alive socket) may keep
  // the command running, or sending, after it has answered.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
