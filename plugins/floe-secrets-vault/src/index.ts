export { VaultSecretsPlugin, VAULT_PLUGIN_VERSION } from './plugin';
export { DEFAULT_KUBERNETES_JWT_PATH, VaultAuthConfig, VaultConfig, vaultConfigSchema, VaultSecretsPluginConfig } from './config';
