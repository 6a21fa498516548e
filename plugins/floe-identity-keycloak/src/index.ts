export { KeycloakIdentityPlugin, KeycloakPluginOptions, KEYCLOAK_PLUGIN_VERSION } from './plugin';
export { ASYMMETRIC_ALGORITHMS, AsymmetricAlgorithm, KeycloakConfig, keycloakConfigSchema, KeycloakIdentityPluginConfig } from './config';
export { RealmEndpoints, RealmKeys, RealmKeysSettings } from './realm-keys';
