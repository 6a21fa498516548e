import { IConstruct } from 'constructs';
import { describeValue } from './runtime-props';
import { constructError, octal, quote, shortHash } from './validation';
import type { FloeDomain } from '../floe-domain';
import { SecretWorkload } from '../secret-workload';

/** Prefix of the Vault Agent Injector's pod annotations. */
export const VAULT_ANNOTATION_PREFIX = 'vault.hashicorp.com/';

/** One file the Vault Agent renders into the pod. */
export interface AgentFile {
  /** Its name in the directory. */
  readonly file: string;
  /** The body inside `{{- with secret "<path>" -}}…{{- end }}`. */
  readonly body: string;
}

/** What a Vault source injects into a workload's pods. */
export interface AgentInjection {
  readonly role: string;
  readonly vaultNamespace?: string;
  readonly authPath?: string;
  /** The directory name under /run/secrets, for the annotation ids. */
  readonly name: string;
  /** The Vault API path every file is read from. */
  readonly vaultPath: string;
  /** The directory the files appear in. */
  readonly mountPath: string;
  readonly files: readonly AgentFile[];
  /** Run as an init container only (no sidecar). */
  readonly prePopulateOnly: boolean;
  /** Annotations of the shape beyond the common ones, e.g. `agent-enable-quit`. */
  readonly extra?: { readonly [key: string]: string };
}

/**
 * Checks that `workload` may get `source`'s Vault Agent files: a SecretWorkload of the same domain
 * that mounts its API token. `sourceClass` names the source's class in the fix.
 *
 * @throws naming the workload (or the source for a non-workload) and the fix
 */
export function checkAgentTarget(source: IConstruct, domain: FloeDomain, sourceClass: string, workload: unknown): asserts workload is SecretWorkload {
  if (!(workload instanceof SecretWorkload)) {
    throw constructError(source, `injectInto expects a SecretMountedJob, SecretMountedDeployment, SecretMountedStatefulSet or SecretMountedDaemonSet, got ${describeValue(workload)}`, 'pass the workload whose pods read the files');
  }
  if (workload.domain !== domain) {
    throw constructError(
      workload,
      `the Vault source ${source.node.path} belongs to domain ${quote(domain.domainName)} (namespace ${domain.namespace}), ` +
        `but this workload is in domain ${quote(workload.domain.domainName)} (namespace ${workload.domain.namespace}); ` +
        'a workload may only read secrets of its own domain',
      `declare the ${sourceClass} in domain ${quote(workload.domain.domainName)}, with that domain's Vault role`,
    );
  }
  if (!workload.serviceAccount.automountToken) {
    throw constructError(
      workload,
      `the Vault Agent of ${source.node.path} logs in with the pod's ServiceAccount token, but automountServiceAccountToken is false`,
      'set automountServiceAccountToken: true on the workload',
    );
  }
}

/** Reserves the files' directory in `workload` and writes the injector's annotations for them. */
export function annotateAgent(workload: SecretWorkload, injection: AgentInjection): void {
  workload.reserveMountPath(injection.mountPath);
  const a = (key: string, value: string) => workload.addPodAnnotation(`${VAULT_ANNOTATION_PREFIX}${key}`, value);
  a('agent-inject', 'true');
  a('role', injection.role);
  a('agent-run-as-user', String(workload.runAsUser));
  a('agent-run-as-group', String(workload.runAsGroup));
  if (injection.prePopulateOnly) a('agent-pre-populate-only', 'true');
  for (const [key, value] of Object.entries(injection.extra ?? {})) a(key, value);
  if (injection.vaultNamespace) a('namespace', injection.vaultNamespace);
  if (injection.authPath) a('auth-path', injection.authPath);
  for (const { file, body } of injection.files) {
    const id = annotationId(`${injection.name}-${file}`);
    a(`agent-inject-secret-${id}`, injection.vaultPath);
    a(`agent-inject-template-${id}`, `{{- with secret "${injection.vaultPath}" -}}${body}{{- end }}`);
    a(`agent-inject-file-${id}`, file);
    a(`secret-volume-path-${id}`, injection.mountPath);
    a(`agent-inject-perms-${id}`, octal(workload.fileMode));
  }
}

/** A name usable after `agent-inject-template-` in an annotation key (63 characters at most). */
function annotationId(value: string): string {
  const id = value.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return id.length <= 41 ? id : `${id.slice(0, 32)}-${shortHash(value)}`;
}
