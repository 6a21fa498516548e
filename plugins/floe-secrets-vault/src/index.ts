export { VaultSecretsPlugin, VAULT_PLUGIN_VERSION } from './plugin';
export { DatabaseCredentials, DEFAULT_DATABASE_MOUNT, LeaseAuditAction, LeaseInfo, LeaseRenewal } from './database';
export {
  DEFAULT_KUBERNETES_JWT_PATH, VaultAppRoleAuth, VaultAuth, VaultAuthConfig, VaultConfig, VaultKubernetesAuth, VaultSecretsPluginConfig,
  VaultTokenAuth,
} from './config';
