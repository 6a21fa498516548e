import { Names } from 'cdk8s';
import { Construct } from 'constructs';
import { FloeDomain } from './floe-domain';
import { FloeSecret, IFloeSecret } from './floe-secret';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetTemplateEngineVersion,
  ExternalSecretSpecTargetTemplateMergePolicy,
} from './imports/externalsecrets-external-secrets.io';
import { optionalOneOf, optionalString, requireList, requireProps, requireRecord, requireString } from './internal/runtime-props';
import { checkSourceCommon } from './internal/source-props';
import { childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { CreationPolicy, SecretSourceInfo, SOURCE_LABEL, sourceAnnotations } from './secret-source';

/** The kind of External Secrets store an ExternalSecret reads through. */
export enum SecretStoreKind {
  /** A `SecretStore` in the ExternalSecret's own namespace. */
  SECRET_STORE = 'SecretStore',
  /** A cluster-wide `ClusterSecretStore`. */
  CLUSTER_SECRET_STORE = 'ClusterSecretStore',
}

/**
 * A reference to an External Secrets store: one the platform team created, or a
 * {@link VaultSecretStore} of the library (which is a SecretStoreRef itself).
 */
export interface SecretStoreRef {
  /** The store's name. */
  readonly name: string;
  /** The store's kind. */
  readonly kind: SecretStoreKind;
}

/** One key of the managed Secret and where it comes from in the backend. */
export interface ExternalSecretKey {
  /** The key in the managed Kubernetes Secret. */
  readonly secretKey: string;
  /** The backend's key, e.g. the Vault path `compute/snowflake` relative to the store's mount. */
  readonly remoteKey: string;
  /**
   * The property inside the backend secret, e.g. the field `password` of a Vault KV secret.
   *
   * @default - the whole backend secret
   */
  readonly property?: string;
}

/** Properties of an {@link ExternalSecretSource}. */
export interface ExternalSecretSourceProps {
  /** The store the External Secrets Operator reads through (its provider: Vault, Infisical, a cloud secret manager). */
  readonly secretStore: SecretStoreRef;

  /** The managed Kubernetes Secret's name. */
  readonly secretName: string;

  /** Every key of the managed Secret and its origin. At least one. */
  readonly data: ExternalSecretKey[];

  /**
   * How often the operator re-reads the backend, as a duration; at least 1s.
   *
   * @default '1h' (the External Secrets Operator's own default)
   */
  readonly refreshInterval?: string;

  /**
   * How often the credential is rotated in the backend. Jobs that read the Secret must finish
   * within it (see {@link SecretMountedJobProps.activeDeadlineSeconds}).
   *
   * @default - no rotation declared
   */
  readonly rotationPeriod?: string;

  /**
   * What happens to the managed Secret when the ExternalSecret is deleted. `Owner` keeps GitOps
   * tools from reporting the Secret as an orphan and deletes it with its ExternalSecret.
   *
   * @default CreationPolicy.OWNER
   */
  readonly creationPolicy?: CreationPolicy;
}

/**
 * Syncs backend secrets into a Kubernetes Secret of the domain through an External Secrets
 * Operator `ExternalSecret` (`external-secrets.io/v1`) that reads a `SecretStore` or
 * `ClusterSecretStore`.
 *
 * {@link ExternalSecretSource.secret} is the managed Secret as an {@link IFloeSecret}. ESO does not
 * restart workloads: new pods and mounted files see new values, env vars of running pods do not.
 *
 * @requirement seed 000 ESOSecretsPlugin
 */
export class ExternalSecretSource extends Construct {
  /** The managed Secret. */
  public readonly secret: IFloeSecret;
  /** The domain of the ExternalSecret and its Secret. */
  public readonly domain: FloeDomain;
  /** The refresh interval. */
  public readonly refreshInterval: string;
  /** The creation policy of the managed Secret. */
  public readonly creationPolicy: CreationPolicy;
  /**
   * The ExternalSecret (construct id `Resource`): an `ApiObject` of `external-secrets.io/v1` kind
   * `ExternalSecret`, typed by the class `cdk8s import` generated from the operator's CRD.
   */
  public readonly resource: ExternalSecret;

  public constructor(scope: Construct, id: string, props: ExternalSecretSourceProps) {
    const path = childPath(scope, id);
    checkExternalSecretProps(path, props);
    checkStoreDomain(path, scope, props.secretStore);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.refreshInterval = props.refreshInterval ?? '1h';
    this.creationPolicy = props.creationPolicy ?? CreationPolicy.OWNER;
    const source: SecretSourceInfo = {
      kind: 'external-secrets',
      source: this.node.path,
      refreshInterval: this.refreshInterval,
      rotationPeriod: props.rotationPeriod,
      restartsWorkloads: false,
    };
    this.secret = new FloeSecret(this, 'Secret', { secretName: props.secretName, keys: props.data.map((d) => d.secretKey), source });
    const annotations = sourceAnnotations(source);
    const labels = { [SOURCE_LABEL]: 'external-secrets' };
    this.resource = new ExternalSecret(this, 'Resource', {
      metadata: { name: Names.toDnsLabel(this), labels, annotations },
      spec: {
        secretStoreRef: {
          name: props.secretStore.name,
          // An unknown kind was refused by checkExternalSecretProps.
          kind: props.secretStore.kind === SecretStoreKind.SECRET_STORE
            ? ExternalSecretSpecSecretStoreRefKind.SECRET_STORE
            : ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE,
        },
        refreshInterval: this.refreshInterval,
        target: {
          name: props.secretName,
          creationPolicy: this.creationPolicy === CreationPolicy.OWNER
            ? ExternalSecretSpecTargetCreationPolicy.OWNER
            : ExternalSecretSpecTargetCreationPolicy.ORPHAN,
          // Only metadata, merged into the data ESO writes: reviewers see the source on the Secret.
          template: {
            engineVersion: ExternalSecretSpecTargetTemplateEngineVersion.V2,
            mergePolicy: ExternalSecretSpecTargetTemplateMergePolicy.MERGE,
            metadata: { labels, annotations },
          },
        },
        data: props.data.map((d) => ({ secretKey: d.secretKey, remoteRef: { key: d.remoteKey, property: d.property } })),
      },
    });
  }
}

/** Refuses a library SecretStore of another domain: an ExternalSecret can only use a SecretStore of its own namespace. */
function checkStoreDomain(path: string, scope: Construct, store: SecretStoreRef): void {
  const storeDomain = (store as { readonly domain?: unknown }).domain;
  if (store.kind !== SecretStoreKind.SECRET_STORE || !FloeDomain.isFloeDomain(storeDomain)) return;
  const domain = FloeDomain.of(scope);
  if (storeDomain === domain) return;
  throw constructError(
    path,
    `secretStore ${quote(store.name)} is a SecretStore of domain ${quote(storeDomain.domainName)} (namespace ${storeDomain.namespace}), but an ExternalSecret can only use a SecretStore of its own namespace, ${domain.namespace}`,
    `create a VaultSecretStore in domain ${quote(domain.domainName)} and use that`,
  );
}

function checkExternalSecretProps(path: string, props: ExternalSecretSourceProps): void {
  requireProps(path, props, "{ secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE }, secretName: 'hubspot-api', data: [...] }");
  const storeFix = 'reference the store as { name: "vault", kind: SecretStoreKind.CLUSTER_SECRET_STORE } (or SecretStoreKind.SECRET_STORE)';
  requireRecord(path, 'secretStore', props.secretStore, storeFix);
  requireString(path, 'secretStore name', props.secretStore.name, storeFix);
  if (props.secretStore.kind === undefined) throw constructError(path, 'secretStore kind is missing', storeFix);
  optionalOneOf(path, 'secretStore kind', props.secretStore.kind, Object.values(SecretStoreKind), 'use SecretStoreKind.SECRET_STORE or SecretStoreKind.CLUSTER_SECRET_STORE');
  requireString(path, 'secretName', props.secretName, 'name the Secret ESO writes, e.g. "hubspot-api"');
  requireList(path, 'data', props.data, 'list each key and its origin, e.g. [{ secretKey: "TOKEN", remoteKey: "marketing/hubspot" }]').forEach((d, index) => {
    const fix = 'give each entry as { secretKey, remoteKey, property? }';
    requireRecord(path, `data[${index}]`, d, fix);
    const entry = d as ExternalSecretKey;
    requireString(path, `data[${index}].secretKey`, entry.secretKey, fix);
    requireString(path, `data[${index}].remoteKey`, entry.remoteKey, fix);
    optionalString(path, `data[${index}].property`, entry.property, fix);
  });
  optionalString(path, 'refreshInterval', props.refreshInterval, 'write it like "1h"');
  optionalString(path, 'rotationPeriod', props.rotationPeriod, 'write it like "24h"');
  optionalOneOf(path, 'creationPolicy', props.creationPolicy, Object.values(CreationPolicy), 'use CreationPolicy.OWNER or CreationPolicy.ORPHAN');
  checkSourceCommon(path, {
    secretName: props.secretName,
    keys: props.data.map((d) => d.secretKey),
    refreshInterval: props.refreshInterval,
    refreshField: 'refreshInterval',
    minRefreshSeconds: 1,
    rotationPeriod: props.rotationPeriod,
    defaultRefreshSeconds: 3600,
  });
  const storeProblem = dnsSubdomainProblem(props.secretStore.name);
  if (storeProblem) throw constructError(path, `secretStore name ${quote(props.secretStore.name)} ${storeProblem}`, 'reference the store by its Kubernetes name');
  const seen = new Set<string>();
  for (const d of props.data) {
    if (seen.has(d.secretKey)) throw constructError(path, `secretKey ${quote(d.secretKey)} appears twice in data`, 'give each key of the managed Secret one origin');
    seen.add(d.secretKey);
    if (d.remoteKey.trim() === '') throw constructError(path, `remoteKey of ${quote(d.secretKey)} is empty`, 'give the backend key, e.g. "compute/snowflake"');
  }
}
