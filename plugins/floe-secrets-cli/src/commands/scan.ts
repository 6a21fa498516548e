import { Command as Commander } from 'commander';
import { CliCommand, outputOption, PathArgument, PathOption } from '../command';
import { CliError, ExitCode } from '../io';
import {
  DEFAULT_ALLOWLIST_FILE,
  DEFAULT_MAX_FILE_BYTES,
  loadAllowlist,
  SCAN_RULE_FIXES,
  ScanFinding,
  ScanInputError,
  scanPaths,
  ScanResult,
  ScanRuleId,
  SKIPPED_DIRECTORIES,
} from '../scan';

// The scanning functions, for other commands: scanText (pure), scanPaths, parseAllowlist, redact, ...
export * from '../scan';

const MIB = 1024 * 1024;

/** What `floe-secrets scan` finds: its help text. */
const DESCRIPTION = `Finds plaintext credentials and never prints them: Kubernetes Secrets with data
or stringData in YAML, known token formats (AWS, GitHub, Slack, Stripe, Google,
private keys, JWTs, Infisical, Vault), and high-entropy literals in pod env vars
and in credential-named keys (password, secret, token, api_key, ...). Each
finding is shown as a redacted hint and a fingerprint.

Directories are walked without symbolic links inside them, binary files, files
over ${DEFAULT_MAX_FILE_BYTES / MIB} MiB and these directories: ${SKIPPED_DIRECTORIES.join(', ')}.

The allowlist holds accepted findings, one a line: a fingerprint, a path or
path:line (relative to the current directory); # starts a comment.

Exit codes: 0 no findings, 1 findings, 2 could not scan.`;

interface ScanOptions {
  readonly allowlist?: string;
  readonly output: 'text' | 'json';
}

/** `floe-secrets scan [paths...] [--allowlist FILE] [-o text|json]`: finds plaintext credentials. */
export const scan: CliCommand = {
  name: 'scan',
  examples: [
    ['floe-secrets scan dist src', 'synthesized YAML and sources'],
    ['floe-secrets scan -o json', 'the current directory; the findings as a JSON array'],
    ['floe-secrets scan . --allowlist ci/accepted.txt', 'with the accepted findings of another file'],
  ],
  define: () => new Commander('scan')
    .summary('find plaintext credentials in YAML and repository files')
    .description(DESCRIPTION)
    .addArgument(new PathArgument('[paths...]', 'files or directories (default: the current directory)'))
    .addOption(new PathOption('--allowlist <file>', `accepted findings (default: ${DEFAULT_ALLOWLIST_FILE} if it exists)`))
    .addOption(outputOption(['text', 'json'], 'text')),
  run: async (paths, options, io) => {
    const { allowlist: allowlistFile, output } = options as ScanOptions;
    let result: ScanResult;
    try {
      const allowlist = await loadAllowlist(io.cwd, allowlistFile);
      result = await scanPaths(paths, { cwd: io.cwd, allowlist });
    } catch (error) {
      if (error instanceof ScanInputError) throw new CliError(error.message);
      throw error;
    }

    for (const path of result.largeSkipped) io.stderr.write(`floe-secrets scan: skipped ${path}: larger than ${DEFAULT_MAX_FILE_BYTES / MIB} MiB\n`);
    for (const problem of result.unreadable) io.stderr.write(`floe-secrets scan: cannot read ${problem}\n`);

    if (output === 'json') {
      io.stdout.write(`${JSON.stringify(result.findings, undefined, 2)}\n`);
      io.stderr.write(`floe-secrets scan: ${summary(result)}\n`);
    } else {
      io.stdout.write(formatScanReport(result));
    }

    if (result.unreadable.length > 0) {
      io.stderr.write(`floe-secrets scan: the scan is incomplete: ${result.unreadable.length} path(s) could not be read\n`);
      return ExitCode.ERROR;
    }
    return result.findings.length > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
  },
};

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function summary(result: ScanResult): string {
  const files = new Set(result.findings.map((finding) => finding.path)).size;
  const extra = [
    result.allowlisted > 0 ? `${result.allowlisted} allowlisted` : undefined,
    result.binarySkipped > 0 ? `${plural(result.binarySkipped, 'binary file')} skipped` : undefined,
    result.largeSkipped.length > 0 ? `${plural(result.largeSkipped.length, 'large file')} skipped` : undefined,
  ].filter((part) => part !== undefined);
  const head = result.findings.length === 0
    ? `no plaintext credentials found in ${plural(result.filesScanned, 'file')}`
    : `${plural(result.findings.length, 'plaintext credential')} in ${plural(files, 'file')} (${plural(result.filesScanned, 'file')} scanned)`;
  return extra.length > 0 ? `${head}; ${extra.join(', ')}` : head;
}

/** The human-readable report: findings grouped by file, then a fix for each rule found, then a summary. */
export function formatScanReport(result: ScanResult): string {
  const out: string[] = [];
  const byPath = new Map<string, ScanFinding[]>();
  for (const finding of result.findings) byPath.set(finding.path, [...(byPath.get(finding.path) ?? []), finding]);
  for (const [path, findings] of byPath) {
    out.push(path);
    for (const f of findings) out.push(`  ${f.path}:${f.line}  ${f.rule}  ${f.description}  (${f.redacted})  [${f.fingerprint}]`);
    out.push('');
  }
  if (result.findings.length > 0) {
    out.push('how to fix:');
    const rules = [...new Set(result.findings.map((finding) => finding.rule))].sort() as ScanRuleId[];
    for (const rule of rules) out.push(`  ${rule}: ${SCAN_RULE_FIXES[rule]}`);
    out.push('');
  }
  out.push(summary(result));
  if (result.findings.length > 0) {
    out.push(`A finding that is not a credential (a test fixture, say) can be accepted: add its [fingerprint], path:line or path to ${DEFAULT_ALLOWLIST_FILE}.`);
  }
  return `${out.join('\n')}\n`;
}
