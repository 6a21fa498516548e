export { KeycloakIdentityPlugin, KeycloakPluginOptions, KEYCLOAK_PLUGIN_VERSION } from './plugin';
export { ASYMMETRIC_ALGORITHMS, AsymmetricAlgorithm, KeycloakConfig, KeycloakIdentityPluginConfig, KeycloakServiceAccount } from './config';
export { RealmEndpoints, RealmKeys, RealmKeysSettings } from './realm-keys';
