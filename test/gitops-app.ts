import { App, Cron } from 'cdk8s';
import {
  CreationPolicy,
  ExternalSecretSource,
  ExternalSecretSourceProps,
  FloeDomain,
  InfisicalAuthentication,
  InfisicalOperatorApi,
  InfisicalSecretSource,
  InfisicalSecretSourceProps,
  SecretMountedJob,
  SecretReference,
  SecretStoreKind,
  VaultExternalSecretProps,
  VaultSecretSource,
  VaultSecretSourceProps,
} from '../src';

/** The props of every source of the GitOps test app. */
export interface GitopsSources {
  /** An Infisical source that stays on the v1alpha1 API. */
  readonly warehouse: InfisicalSecretSourceProps;
  /** An Infisical source whose operator API may change. */
  readonly crm: InfisicalSecretSourceProps;
  /** An External Secrets source. */
  readonly ads: ExternalSecretSourceProps;
  /** A Vault secret through an External Secrets store. */
  readonly billing: VaultExternalSecretProps;
  /** A Vault secret written as files by the Vault Agent Injector. */
  readonly exportFiles: VaultSecretSourceProps;
}

/**
 * What a source setting does to the pods that read its Secret: `changed` settings must leave every
 * pod template as it is (the test changes them all); `reaches the pod` settings are what the pod
 * receives (Secret names, keys, and every Vault Agent setting, which the injector reads from the pod
 * template). A `Record` over `keyof Props`, so that a new prop does not compile until it is listed.
 */
export type SettingEffect = 'changed' | 'reaches the pod';

export const INFISICAL_SETTINGS: Record<keyof InfisicalSecretSourceProps, SettingEffect> = {
  siteUrl: 'changed',
  projectSlug: 'changed',
  projectId: 'changed',
  envSlug: 'changed',
  secretsPath: 'changed',
  recursive: 'changed',
  authentication: 'changed',
  resyncInterval: 'changed',
  rotationPeriod: 'changed',
  secretName: 'reaches the pod',
  keys: 'reaches the pod',
  creationPolicy: 'changed',
  secretType: 'changed',
  templateData: 'changed',
  includeAllSecrets: 'changed',
  operatorApi: 'changed',
  alsoSyncTo: 'changed',
};

export const EXTERNAL_SECRET_SETTINGS: Record<keyof ExternalSecretSourceProps, SettingEffect> = {
  secretStore: 'changed',
  secretName: 'reaches the pod',
  // The remote side (remoteKey, property) changes; the secretKeys, which the pod reads, do not.
  data: 'changed',
  refreshInterval: 'changed',
  rotationPeriod: 'changed',
  creationPolicy: 'changed',
};

export const VAULT_EXTERNAL_SECRET_SETTINGS: Record<keyof VaultExternalSecretProps, SettingEffect> = {
  secretStore: 'changed',
  path: 'changed',
  keys: 'reaches the pod',
  secretName: 'reaches the pod',
  refreshInterval: 'changed',
  rotationPeriod: 'changed',
};

export const VAULT_AGENT_SETTINGS: Record<keyof VaultSecretSourceProps, SettingEffect> = {
  role: 'reaches the pod',
  path: 'reaches the pod',
  keys: 'reaches the pod',
  name: 'reaches the pod',
  mount: 'reaches the pod',
  vaultNamespace: 'reaches the pod',
  authPath: 'reaches the pod',
};

const universal = InfisicalAuthentication.universalAuth({ name: 'infisical-universal-auth', namespace: 'floe-platform' });

/** The sources as first deployed. */
export function sourcesBefore(): GitopsSources {
  return {
    warehouse: {
      projectSlug: 'floe-analytics',
      envSlug: 'prod',
      secretsPath: '/compute/warehouse',
      authentication: universal,
      rotationPeriod: '24h',
      secretName: 'warehouse',
      keys: ['user', 'password'],
    },
    crm: {
      projectSlug: 'floe-analytics',
      envSlug: 'prod',
      secretsPath: '/compute/crm',
      authentication: universal,
      secretName: 'crm',
      keys: ['token'],
    },
    ads: {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      secretName: 'ads',
      data: [{ secretKey: 'ADS_TOKEN', remoteKey: 'marketing/ads', property: 'token' }],
    },
    billing: {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      path: 'billing/api',
      keys: ['api-key'],
      secretName: 'billing',
    },
    exportFiles: { role: 'floe-gitops', path: 'gitops/export', keys: ['user', 'password'], name: 'export' },
  };
}

/**
 * Every setting marked `changed` changed: other Infisical instance, project, environment, folder,
 * authentication, intervals, rotation, creation policy, Secret type, templates, operator API,
 * copies in another domain; other stores, remote keys and Vault paths. `keepAuthMethod` changes
 * the Infisical credentials Secret but not the method (universal to kubernetes), which server-side
 * apply cannot do (see test/integration/gitops.test.ts).
 */
export function sourcesAfter(copyTo: FloeDomain, options: { readonly keepAuthMethod?: boolean } = {}): GitopsSources {
  const before = sourcesBefore();
  return {
    warehouse: {
      siteUrl: 'https://infisical.example.com',
      projectId: 'proj-7f3a',
      envSlug: 'staging',
      secretsPath: '/warehouse/v2',
      recursive: true,
      authentication: options.keepAuthMethod
        ? InfisicalAuthentication.universalAuth({ name: 'infisical-warehouse-auth', namespace: 'floe-platform' })
        : InfisicalAuthentication.kubernetesAuth('identity-7f3a', { name: 'infisical-reader', namespace: 'floe-platform' }),
      resyncInterval: '5m',
      rotationPeriod: '12h',
      secretName: 'warehouse',
      keys: ['user', 'password'],
      creationPolicy: CreationPolicy.ORPHAN,
      secretType: 'floe.dev/warehouse',
      templateData: { password: '{{ .PASSWORD.Value }}' },
      includeAllSecrets: true,
      operatorApi: InfisicalOperatorApi.V1ALPHA1,
      alsoSyncTo: [copyTo],
    },
    crm: { ...before.crm, operatorApi: InfisicalOperatorApi.V1BETA1 },
    ads: {
      secretStore: { name: 'team-store', kind: SecretStoreKind.SECRET_STORE },
      secretName: 'ads',
      data: [{ secretKey: 'ADS_TOKEN', remoteKey: 'ads/v2' }],
      refreshInterval: '15m',
      rotationPeriod: '24h',
      creationPolicy: CreationPolicy.ORPHAN,
    },
    billing: {
      ...before.billing,
      secretStore: { name: 'vault-eu', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      path: 'billing/api-v2',
      refreshInterval: '30m',
      rotationPeriod: '24h',
    },
    exportFiles: before.exportFiles,
  };
}

/** Names of the objects the app synthesizes in its main domain. */
export const GITOPS_JOB = 'load';
export const GITOPS_CRONJOB = 'nightly';

/**
 * An app with a Job and a CronJob in domain `<domain>` that read all five sources (env, envFrom,
 * files, Vault Agent files), and a second domain `<domain>-copy` that may receive copies.
 * `sources` gets the second domain, for `alsoSyncTo`.
 */
export function buildGitopsApp(app: App, domain: string, sources: (copy: FloeDomain) => GitopsSources): App {
  const main = new FloeDomain(app, domain, { domain });
  const copy = new FloeDomain(app, `${domain}-copy`, { domain: `${domain}-copy` });
  const props = sources(copy);
  const warehouse = new InfisicalSecretSource(main, 'Warehouse', props.warehouse).secret;
  const crm = new InfisicalSecretSource(main, 'Crm', props.crm).secret;
  const ads = new ExternalSecretSource(main, 'Ads', props.ads).secret;
  const billing = VaultSecretSource.viaExternalSecrets(main, 'Billing', props.billing).secret;
  const exportFiles = new VaultSecretSource(main, 'Export', props.exportFiles);
  for (const [id, name, schedule] of [['Load', GITOPS_JOB, undefined], ['Nightly', GITOPS_CRONJOB, Cron.schedule({ minute: '0', hour: '2' })]] as const) {
    const job = new SecretMountedJob(main, id, {
      name,
      image: 'ghcr.io/acme/loader:1.0.0',
      schedule,
      activeDeadlineSeconds: 3600,
      automountServiceAccountToken: true, // the Vault Agent logs in with the pod's token
      secretEnv: [SecretReference.fromSecret(warehouse, 'user'), SecretReference.fromSecret(warehouse, 'password'), SecretReference.fromSecret(billing, 'api-key')],
      secretEnvFrom: [ads],
      secretFiles: [{ secret: crm }],
    });
    exportFiles.injectInto(job);
  }
  return app;
}
