export { VaultSecretsPlugin, VAULT_PLUGIN_VERSION } from './plugin';
export {
  DEFAULT_KUBERNETES_JWT_PATH, VaultAppRoleAuth, VaultAuth, VaultAuthConfig, VaultConfig, VaultKubernetesAuth, VaultSecretsPluginConfig,
  VaultTokenAuth,
} from './config';
