import { parseDuration as parseGoDuration } from '@floe-secrets/core';
import { compare, compareRoles, nsLabel } from './collect';
import { GrantedCapability, TokenTtls, VaultPlan, VaultRole } from './model';
import { clean } from '../access-map/render';
import { isDynamicCredentialsPath } from '../access-map/workloads';

/** The first line of the README this command writes: how it recognises a folder it may replace. */
export const README_MARKER = '<!-- written by floe-secrets vault-policies: this whole folder is replaced when it runs again -->';

/** The Terraform file written next to the policies. */
export const TERRAFORM_FILE = 'vault-policies.tf.json';

/** Files of the output folder, by path relative to it (sorted), and their text. */
export type OutputFiles = Map<string, string>;

const CAPABILITY_ORDER: readonly GrantedCapability[] = ['read', 'list'];

/** The folder of a Vault namespace's files: `''` for the root namespace, else `<namespace>/`. */
function dirOf(role: VaultRole): string {
  return role.vaultNamespace === '' ? '' : `${role.vaultNamespace}/`;
}

/** Everything written to -o DIR: per role a policy and the auth role's parameters, the Terraform file and the README. */
export function renderFiles(plan: VaultPlan, ttls: TokenTtls): OutputFiles {
  const roles = [...plan.roles.values()].sort(compareRoles);
  const files: OutputFiles = new Map();
  for (const role of roles) {
    files.set(`${dirOf(role)}${role.name}.hcl`, renderPolicy(role));
    files.set(`${dirOf(role)}${role.name}.role.json`, `${JSON.stringify(roleBody(role, ttls), null, 2)}\n`);
  }
  files.set(TERRAFORM_FILE, renderTerraform(roles, ttls));
  files.set('README.md', renderReadme(plan, roles, ttls));
  return new Map([...files].sort(([a], [b]) => compare(a, b)));
}

/** A policy in HCL: one block per path, capabilities read (and list for ESO's find only), the users as comments. */
export function renderPolicy(role: VaultRole): string {
  const lines = [
    `# Vault policy ${role.name}, for the Kubernetes auth role ${role.name} (auth/${role.authMount})${nsLabel(role.vaultNamespace)}.`,
    '# Written by floe-secrets vault-policies from the synthesized manifests: change those and run it again.',
    '# It reads exactly the paths below; list appears only where an ExternalSecret\'s dataFrom.find lists a folder.',
  ];
  for (const entry of [...role.paths.values()].sort((a, b) => compare(a.path, b.path))) {
    lines.push('');
    for (const user of [...entry.users.keys()].sort(compare)) lines.push(`# ${comment(user)}`);
    const capabilities = CAPABILITY_ORDER.filter((c) => entry.capabilities.has(c)).map((c) => `"${c}"`).join(', ');
    lines.push(`path "${entry.path}" {`, `  capabilities = [${capabilities}]`, '}');
  }
  return `${lines.join('\n')}\n`;
}

/** The body of `vault write auth/<mount>/role/<role>`. */
export function roleBody(role: VaultRole, ttls: TokenTtls): object {
  const accounts = [...role.serviceAccounts].map((sa) => ({ namespace: sa.slice(0, sa.indexOf('/')), name: sa.slice(sa.indexOf('/') + 1) }));
  return {
    bound_service_account_names: [...new Set(accounts.map((a) => a.name))].sort(compare),
    bound_service_account_namespaces: [...new Set(accounts.map((a) => a.namespace))].sort(compare),
    token_policies: [role.name],
    token_ttl: formatDuration(ttls.ttl),
    token_max_ttl: formatDuration(ttls.maxTtl),
  };
}

/** Terraform (JSON syntax) for the hashicorp/vault provider: a vault_policy and a vault_kubernetes_auth_backend_role per role. */
function renderTerraform(roles: VaultRole[], ttls: TokenTtls): string {
  const used = new Set<string>();
  const policies: { [id: string]: object } = {};
  const authRoles: { [id: string]: object } = {};
  for (const role of roles) {
    const id = terraformId(`${role.vaultNamespace}_${role.name}`, used);
    const namespace = role.vaultNamespace === '' ? {} : { namespace: role.vaultNamespace };
    const body = roleBody(role, ttls) as { bound_service_account_names: string[]; bound_service_account_namespaces: string[] };
    policies[id] = { ...namespace, name: role.name, policy: `\${file("\${path.module}/${dirOf(role)}${role.name}.hcl")}` };
    authRoles[id] = {
      ...namespace,
      backend: role.authMount,
      role_name: role.name,
      bound_service_account_names: body.bound_service_account_names,
      bound_service_account_namespaces: body.bound_service_account_namespaces,
      token_policies: [`\${vault_policy.${id}.name}`],
      token_ttl: ttls.ttl,
      token_max_ttl: ttls.maxTtl,
    };
  }
  const document = roles.length === 0 ? {} : { resource: { vault_policy: policies, vault_kubernetes_auth_backend_role: authRoles } };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A Terraform identifier (letters, digits, `_`, `-`; not starting with a digit), unique among `used`. */
function terraformId(text: string, used: Set<string>): string {
  let id = text.replace(/^_+/, '').replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z_]/.test(id)) id = `r_${id}`;
  let unique = id;
  for (let n = 2; used.has(unique); n++) unique = `${id}_${n}`;
  used.add(unique);
  return unique;
}

function renderReadme(plan: VaultPlan, roles: VaultRole[], ttls: TokenTtls): string {
  const lines = [
    README_MARKER,
    '# Vault policies and Kubernetes auth roles',
    '',
    'Written by `floe-secrets vault-policies` from synthesized manifests: one policy per Vault role, reading',
    'exactly the paths its workloads (Vault Agent) and ExternalSecrets (through a Vault SecretStore) use,',
    `and the role bound to exactly their ServiceAccounts, with tokens valid ${formatDuration(ttls.ttl)} (at most ${formatDuration(ttls.maxTtl)} with renewals).`,
    'Tokens also get Vault\'s `default` policy (a token may look itself up and renew itself).',
    'Do not edit these files: change the app, synthesize, and run the command again.',
    '',
    '## With the vault CLI',
    '',
    'Logged in with a token that may write policies and auth roles (`VAULT_ADDR` and `VAULT_TOKEN` set):',
    '',
    '```sh',
  ];
  for (const role of roles) {
    const ns = role.vaultNamespace === '' ? '' : ` -namespace=${role.vaultNamespace}`;
    lines.push(`vault policy write${ns} ${role.name} ${dirOf(role)}${role.name}.hcl`);
    lines.push(`vault write${ns} auth/${role.authMount}/role/${role.name} @${dirOf(role)}${role.name}.role.json`);
  }
  lines.push('```', '', '## With Terraform', '',
    `\`${TERRAFORM_FILE}\` declares a \`vault_policy\` and a \`vault_kubernetes_auth_backend_role\` per role for the`,
    '`hashicorp/vault` provider, reading the policies from this folder: use the folder as a module, or copy the file',
    'next to your provider configuration.', '', '## Roles', '');
  for (const role of roles) {
    lines.push(`- \`${role.name}\` (auth/${role.authMount}${nsLabel(role.vaultNamespace)}): ServiceAccounts ${[...role.serviceAccounts].sort(compare).map((sa) => `\`${sa}\``).join(', ')}; ${role.paths.size} path${role.paths.size === 1 ? '' : 's'}`);
  }
  const dynamic = roles.flatMap((role) => [...role.paths.keys()].filter(isDynamicCredentialsPath));
  if (dynamic.length > 0) {
    lines.push('', '## Dynamic credentials', '',
      `${[...new Set(dynamic)].sort(compare).map((path) => `\`${path}\``).join(', ')} ${dynamic.length === 1 ? 'gives' : 'give'} credentials with a lease. A lease ends`,
      'when it expires and when the Vault token that read it is revoked (the Vault Agent\'s or the generator\'s login), neither of',
      'which needs a capability. To revoke one by hand (`floe-secrets revoke LEASE`, `vault lease revoke`), a token needs',
      '`update` on `sys/leases/revoke`, which no role here gets: grant it to the people who revoke, in a policy of their own.');
  }
  if (plan.remarks.length > 0) {
    lines.push('', '## Flags', '');
    for (const remark of plan.remarks) lines.push(`- [${remark.kind}] ${comment(remark.message)}`);
  }
  if (plan.problems.length > 0) {
    lines.push('', '## Not covered', '');
    for (const problem of plan.problems) lines.push(`- ${comment(problem.what)}: ${comment(problem.problem)}; fix: ${comment(problem.fix)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The summary on stdout: each role, its ServiceAccounts and paths. */
export function renderSummary(plan: VaultPlan, outDir: string, ttls: TokenTtls): string {
  const roles = [...plan.roles.values()].sort(compareRoles);
  const lines = [`wrote ${roles.length} Vault ${roles.length === 1 ? 'policy and role' : 'policies and roles'} to ${comment(outDir)} (its README.md says how to apply them); tokens ${formatDuration(ttls.ttl)}, at most ${formatDuration(ttls.maxTtl)}`];
  for (const role of roles) {
    lines.push('', `role ${role.name} (auth/${role.authMount}${nsLabel(role.vaultNamespace)}): ${dirOf(role)}${role.name}.hcl, ${dirOf(role)}${role.name}.role.json`);
    lines.push(`  ServiceAccounts: ${[...role.serviceAccounts].sort(compare).join(', ')}`);
    for (const entry of [...role.paths.values()].sort((a, b) => compare(a.path, b.path))) {
      lines.push(`  ${CAPABILITY_ORDER.filter((c) => entry.capabilities.has(c)).join(',').padEnd(9)} ${entry.path}`);
    }
  }
  const counts = new Map<string, number>();
  for (const remark of plan.remarks) counts.set(remark.kind, (counts.get(remark.kind) ?? 0) + 1);
  const flagged = [...counts].filter(([kind]) => kind !== 'note').map(([kind, n]) => `${n} ${kind}`);
  lines.push('', flagged.length === 0 ? 'no flags' : `flags: ${flagged.join(', ')} (see the warnings above, and README.md)`);
  if (plan.problems.length > 0) lines.push(`not covered: ${plan.problems.length} (see the problems above, and README.md)`);
  return `${lines.map(comment).join('\n')}\n`;
}

/** Seconds as a Go duration, as Vault reads it: `1h`, `1h30m`, `90s` -> `1m30s`. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const text = `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
  return text === '' ? '0s' : text;
}

/**
 * Parses a token lifetime: a Go duration (`1h`, `30m`, `1h30m`, `90s`, as core's parseDuration
 * reads it) or whole seconds; undefined when it is neither, not whole seconds, or not positive.
 */
export function parseDuration(text: string): number | undefined {
  const seconds = /^\d{1,9}$/.test(text) ? Number(text) : parseGoDuration(text);
  return seconds !== undefined && Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

/** One line: control characters (a line break in a name) replaced. */
const comment = clean;
