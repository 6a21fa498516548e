#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { runCli } from './cli';
import { COMMANDS } from './commands';
import { CliIO } from './io';

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  readStdin: async () => (process.stdin.isTTY ? promptHidden('value (not shown): ') : readAll()),
  env: process.env,
  cwd: process.cwd(),
};

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
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

void runCli(process.argv.slice(2), io, COMMANDS).then((code) => {
  // Exit once the output is flushed: a backend client that cannot cancel a timed-out request
  // (the Infisical SDK, a hung apiserver connection) must not keep the command running.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
