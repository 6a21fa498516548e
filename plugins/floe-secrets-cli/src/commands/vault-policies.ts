import { resolve } from 'node:path';
import { loadPlatformManifest, VaultBackendConfig } from '@floe-secrets/core';
import { Command as Commander, Option } from 'commander';
import { clean } from '../access-map/render';
import { CliCommand, manifestOption, PathArgument, PathOption } from '../command';
import { CliError, ExitCode } from '../io';
import { readManifests } from '../manifests';
import { planVaultPolicies } from '../vault-policies/collect';
import { formatDuration, parseDuration, renderFiles, renderSummary } from '../vault-policies/render';
import { replaceFolder } from '../vault-policies/write';

/** Token lifetime of the roles, unless --token-ttl says otherwise. */
const DEFAULT_TOKEN_TTL = '1h';
/** Longest lifetime of a token with renewals, unless --token-max-ttl says otherwise. */
const DEFAULT_TOKEN_MAX_TTL = '4h';

/** Names `-o` takes on other commands: refused as a directory name, to catch `-o json` typed by habit. */
const FORMAT_NAMES = ['text', 'json', 'yaml', 'table', 'markdown', 'mermaid', 'dot'];

/** What `floe-secrets vault-policies` writes: its help text. */
const DESCRIPTION = `Vault policies and Kubernetes auth roles of least privilege, from synthesized
output (.yaml, .yml, .json files; directories read recursively). It reads
  - Vault Agent injector annotations on pod templates: vault.hashicorp.com/role,
    agent-inject-secret-<file> (a KV v2 <mount>/data/<path>, or a KV v1 path),
    the paths of agent-inject-template-<file>, namespace and auth-path; the
    pod's ServiceAccount and namespace;
  - ExternalSecrets whose SecretStore or ClusterSecretStore (in the input)
    has provider vault: the store's path (KV mount), version, namespace and
    auth.kubernetes role, mountPath and serviceAccountRef (a SecretStore's
    ServiceAccount is in the store's namespace).

and writes into DIR, per Vault role,
  <role>.hcl         a policy granting read on exactly the paths the role's
                     workloads and ExternalSecrets read; list only where an
                     ExternalSecret's dataFrom.find lists a folder (nothing
                     the library writes needs list; extract and data read one
                     secret each);
  <role>.role.json   the body of "vault write auth/<mount>/role/<role>":
                     bound_service_account_names and _namespaces exactly the
                     ServiceAccounts that log in with it, token_policies, TTLs;
plus vault-policies.tf.json (Terraform, hashicorp/vault provider) and
README.md (the vault commands). Files of a Vault namespace other than the root
go to DIR/<namespace>/. DIR is replaced as a whole, all or nothing: it must be
new, empty, or written by this command before.

From manifest.yaml (a Vault backend) it takes the KV v2 mount (a Vault Agent
path under it without data/ is flagged) and vault_namespace (for objects that
name no Vault namespace). The auth method path is the object's (annotation
vault.hashicorp.com/auth-path, the store's mountPath), else kubernetes.

Tokens live 1h and at most 4h by default: the Vault Agent renews its token and
logs in again with the pod's ServiceAccount token when it may no longer
renew, and ESO logs in again when its token expires, so short lifetimes cost a
login an hour and bound what a leaked token is worth.

Flagged on stderr and in README.md (exit 0 unless --fail-on-shared): a path
read by two domains, a role used by two domains, a role whose bound names and
namespaces also admit ServiceAccounts that nothing uses, a workload running as
ServiceAccount default, a find over a whole mount.

It reads names and paths only: secret values are never read or printed.

Exit codes: 0 written; 1 written, but something is not covered (an
ExternalSecret whose store is not in the input, a Vault Agent workload without
a role, ...) or --fail-on-shared and a path or role is shared; 2 bad
arguments, unreadable input, no Vault objects, or DIR cannot be written
(nothing is written).`;

interface VaultPoliciesOptions {
  readonly output?: string;
  readonly manifest: string;
  readonly tokenTtl: string;
  readonly tokenMaxTtl: string;
  readonly failOnShared: boolean;
}

/** `floe-secrets vault-policies <paths...> -o DIR [--manifest FILE] [--token-ttl D] [--token-max-ttl D] [--fail-on-shared]`. */
export const vaultPolicies: CliCommand = {
  name: 'vault-policies',
  examples: [
    ['floe-secrets vault-policies dist -o vault', 'a policy and a Kubernetes auth role per Vault role, into ./vault'],
    ['floe-secrets vault-policies dist stores.yaml -o vault -m prod-manifest.yaml', 'SecretStores kept outside dist, and another manifest'],
    ['floe-secrets vault-policies dist -o vault --token-ttl 15m --fail-on-shared', '15-minute tokens; exit 1 when a path or role is shared by domains'],
  ],
  define: () => new Commander('vault-policies')
    .summary('Vault policies and Kubernetes auth roles of least privilege, from synthesized output')
    .description(DESCRIPTION)
    .addArgument(new PathArgument('<paths...>', 'files or directories of manifests (e.g. dist)'))
    .addOption(new PathOption('-o, --output <dir>', 'the directory to write (required; replaced as a whole)'))
    .addOption(manifestOption())
    .addOption(new Option('--token-ttl <duration>', 'token_ttl of every role: a duration (15m, 1h) or seconds').default(DEFAULT_TOKEN_TTL))
    .addOption(new Option('--token-max-ttl <duration>', 'token_max_ttl of every role, with renewals').default(DEFAULT_TOKEN_MAX_TTL))
    .option('--fail-on-shared', 'exit 1 when a path or a role is shared by two domains', false),
  run: async (operands, options, io) => {
    const { output, manifest: manifestPath, tokenTtl, tokenMaxTtl, failOnShared } = options as VaultPoliciesOptions;
    if (output === undefined) throw new CliError('missing -o DIR: the directory to write the policies and roles to, e.g. -o vault');
    if (output === '') throw new CliError('-o is empty; give the directory to write, e.g. -o vault');
    if (FORMAT_NAMES.includes(output)) {
      throw new CliError(`-o takes the directory to write here, not a format ("${output}" looks like one); for a directory of that name write -o ./${output}`);
    }
    if (operands.includes('-')) throw new CliError('vault-policies reads files and directories, not standard input');
    const ttl = parseDuration(tokenTtl);
    if (ttl === undefined) throw new CliError('--token-ttl is not a duration; give e.g. 15m, 1h or 3600 (seconds)');
    const maxTtl = parseDuration(tokenMaxTtl);
    if (maxTtl === undefined) throw new CliError('--token-max-ttl is not a duration; give e.g. 1h, 4h or 14400 (seconds)');
    if (ttl > maxTtl) {
      throw new CliError(`--token-ttl ${formatDuration(ttl)} is longer than --token-max-ttl ${formatDuration(maxTtl)} (Vault refuses such a role); shorten the first or lengthen the second`);
    }

    const manifest = loadPlatformManifest(resolve(io.cwd, manifestPath));
    const backend = manifest.plugins.secrets;
    if (backend.type !== 'vault') {
      throw new CliError(`${manifestPath}: plugins.secrets.type is ${backend.type}, not vault; vault-policies writes Vault policies: pass the manifest of a Vault platform with --manifest`);
    }
    const manifests = readManifests(operands, io.cwd, { fast: true });
    for (const warning of manifests.warnings) io.stderr.write(`floe-secrets vault-policies: warning: doubtful YAML, read anyway: ${warning}\n`);
    const plan = planVaultPolicies(manifests.documents, backend as VaultBackendConfig);
    if (plan.roles.size === 0) {
      const found = plan.counts.agentWorkloads + plan.counts.externalSecrets > 0 || plan.problems.length > 0;
      for (const p of plan.problems) io.stderr.write(clean(`floe-secrets vault-policies: PROBLEM: ${p.what}: ${p.problem}; fix: ${p.fix}`) + '\n');
      throw new CliError(found
        ? `nothing to write: no Vault role could be made from ${operands.join(', ')} (see the problems above); nothing was written to ${output}`
        : `no Vault objects in ${operands.join(', ')} (no pod template with Vault Agent annotations, no ExternalSecret through a Vault store): nothing to write; `
          + 'pass the synthesized output of an app that reads Vault (and the files defining its SecretStores)');
    }

    const ttls = { ttl, maxTtl };
    replaceFolder(resolve(io.cwd, output), output, renderFiles(plan, ttls));
    for (const r of plan.remarks) io.stderr.write(clean(`floe-secrets vault-policies: ${r.kind === 'note' ? 'note' : `warning: [${r.kind}]`} ${r.message}`) + '\n');
    for (const p of plan.problems) io.stderr.write(clean(`floe-secrets vault-policies: PROBLEM: ${p.what}: ${p.problem}; fix: ${p.fix}`) + '\n');
    io.stdout.write(renderSummary(plan, output, ttls));
    const shared = plan.remarks.filter((r) => r.kind === 'shared-path' || r.kind === 'shared-role').length;
    if (plan.problems.length > 0) {
      io.stderr.write(`floe-secrets vault-policies: ${plan.problems.length} not covered; the policies for everything else are written\n`);
      return ExitCode.PROBLEMS;
    }
    if (shared > 0 && failOnShared) {
      io.stderr.write(`floe-secrets vault-policies: ${shared} path${shared === 1 ? '' : 's'} or role${shared === 1 ? '' : 's'} shared by domains (--fail-on-shared)\n`);
      return ExitCode.PROBLEMS;
    }
    return ExitCode.OK;
  },
};
