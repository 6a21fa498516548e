export { InfisicalSecretsPlugin, PLUGIN_VERSION } from './plugin';
export { DEFAULT_CACHE_TTL_MS, INFISICAL_CLOUD_URL, InfisicalSecretsPluginConfig, parseInfisicalConfig, ResolvedInfisicalConfig } from './config';
export { SecretLocation } from './paths';
export { ProjectInfo, ProjectRef, ProjectScope } from './api';
