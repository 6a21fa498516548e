import { runCli } from './run-cli';

describe('floe-secrets (the built binary)', () => {
  test('without a command: usage on stderr, exit 2', () => {
    const run = runCli([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^usage: floe-secrets <command> \[options\]/);
  });

  test('--help: usage on stdout, exit 0', () => {
    const run = runCli(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('exit codes: 0 all good, 1 problems found, 2 could not check');
  });

  test('an unknown command: a clear message, exit 2, no stack trace', () => {
    const run = runCli(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^floe-secrets: unknown command "frobnicate"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
