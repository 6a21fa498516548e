export * from './floe-domain';
export * from './floe-secret';
export * from './floe-service-account';
export * from './secret-read-role';
export * from './secret-reference';
export * from './pod-spec';
export * from './secret-source';
export * from './secret-workload';
export * from './secret-workload-props';
export * from './secret-mounted-job';
export * from './secret-mounted-deployment';
export * from './workload-secrets';
export * from './infisical-secret-source';
export * from './external-secret-source';
export * from './vault-secret-source';
export * from './vault-secret-store';
export * from './vault-database-credentials';
export * from './sync-waves';
// The platform manifest lives in @floe-secrets/core, shared with the runtime plugins and the CLI.
export {
  ComputeTarget, CredentialRef, InfisicalBackendConfig, InfisicalKubernetesAuthConfig, InfisicalUniversalAuthConfig,
  K8sBackendConfig, loadPlatformManifest, ManifestError, ManifestIssue, parseDuration, parsePlatformManifest,
  PlatformManifest, SecretsBackendConfig, VaultBackendConfig,
} from '@floe-secrets/core';
export * from './floe-secrets-platform';
export * from './dbt-profile';
// The error every construct throws, and the name checks it applies; the rest of internal/ is not API.
export { dnsLabelProblem, dnsSubdomainProblem, FloeSecretsError, isEnvVarName, quote, secretKeyProblem } from './internal/validation';
export * from './secret-mounted-statefulset';
export * from './secret-mounted-daemonset';
// The base of SecretMountedDeployment, SecretMountedStatefulSet and SecretMountedDaemonSet, with the props they share.
export { LongRunningSecretWorkload, LongRunningSecretWorkloadProps } from './internal/long-running';
