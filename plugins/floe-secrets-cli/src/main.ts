#!/usr/bin/env node
import { runCli } from './cli';
import { COMMANDS } from './commands';
import { CliIO } from './io';

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutIsTTY: process.stdout.isTTY === true,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
  cwd: process.cwd(),
};

void runCli(process.argv.slice(2), io, COMMANDS).then((code) => {
  process.exitCode = code;
});
