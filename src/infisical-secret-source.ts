import { Names } from 'cdk8s';
import { Construct } from 'constructs';
import { FloeDomain } from './floe-domain';
import { FloeSecret, IFloeSecret } from './floe-secret';
import { InfisicalAuth, InfisicalAuthSpecMethod } from './imports/infisicalauths-secrets.infisical.com';
import { InfisicalConnection } from './imports/infisicalconnections-secrets.infisical.com';
import { InfisicalSecret, InfisicalSecretSpecAuthentication } from './imports/infisicalsecrets-secrets.infisical.com';
import {
  InfisicalStaticSecret,
  InfisicalStaticSecretSpecTargetsCreationPolicy,
  InfisicalStaticSecretSpecTargetsKind,
  InfisicalStaticSecretSpecTargetsTemplateEngineVersion,
} from './imports/infisicalstaticsecrets-secrets.infisical.com';
import { checkAuthentication, checkSecretsPath, checkSiteUrl, SLUG } from './internal/infisical-props';
import {
  describeValue, optionalBoolean, optionalOneOf, optionalString, optionalStringMap, requireList, requireProps, requireString, requireStringList,
} from './internal/runtime-props';
import { checkSourceCommon } from './internal/source-props';
import { childPath, constructError, dnsSubdomainProblem, quote, secretKeyProblem } from './internal/validation';
import { CreationPolicy, SecretSourceInfo, SOURCE_LABEL, sourceAnnotations } from './secret-source';

/** Infisical Cloud. */
export const INFISICAL_CLOUD_URL = 'https://app.infisical.com';

/** Which API of the Infisical operator to synthesize for. */
export enum InfisicalOperatorApi {
  /** `InfisicalSecret` (`secrets.infisical.com/v1alpha1`), served by every operator release. */
  V1ALPHA1 = 'v1alpha1',
  /** `InfisicalConnection` + `InfisicalAuth` + `InfisicalStaticSecret` (`v1beta1`), for newer operators. */
  V1BETA1 = 'v1beta1',
}

/** A Kubernetes object reference by name and namespace. */
export interface NamespacedName {
  /** The object's name. */
  readonly name: string;
  /** The object's namespace. */
  readonly namespace: string;
}

/**
 * How the operator authenticates to Infisical. The construct never takes credential values:
 * Universal Auth reads them from a Secret that the platform team creates.
 */
export class InfisicalAuthentication {
  /**
   * Universal Auth (machine identity client id and secret), read by the operator from the Secret
   * `credentials`, which holds the keys `clientId` and `clientSecret`.
   */
  public static universalAuth(credentials: NamespacedName): InfisicalAuthentication {
    return new InfisicalAuthentication('universal', credentials);
  }

  /**
   * Kubernetes Auth: the operator logs in as machine identity `identityId` with a token of
   * `serviceAccount`. The v1beta1 API reads the identity id from a Secret instead: give it as
   * `identityIdSecret` (key `identityId`) when you use `operatorApi: V1BETA1`.
   */
  public static kubernetesAuth(identityId: string, serviceAccount: NamespacedName, identityIdSecret?: NamespacedName): InfisicalAuthentication {
    return new InfisicalAuthentication('kubernetes', serviceAccount, identityId, identityIdSecret);
  }

  private constructor(
    /** `universal` or `kubernetes`. */
    public readonly method: 'universal' | 'kubernetes',
    /** The credentials Secret (universal) or the ServiceAccount (kubernetes). */
    public readonly ref: NamespacedName,
    /** The machine identity id (kubernetes). */
    public readonly identityId?: string,
    /** The Secret holding the identity id under key `identityId` (kubernetes, v1beta1). */
    public readonly identityIdSecret?: NamespacedName,
  ) {}
}

/** Properties of an {@link InfisicalSecretSource}. */
export interface InfisicalSecretSourceProps {
  /**
   * The Infisical instance: Infisical Cloud or a self-hosted URL. The v1alpha1 resource gets
   * `<siteUrl>/api` as `hostAPI`; the v1beta1 connection gets the URL.
   *
   * @default https://app.infisical.com
   * @requirement REQ-132 `site_url`
   */
  readonly siteUrl?: string;

  /**
   * The project slug. Give exactly one of `projectSlug` and `projectId`.
   *
   * @default - none; projectId is used
   */
  readonly projectSlug?: string;

  /**
   * The project id. Give exactly one of `projectSlug` and `projectId`.
   *
   * @default - none; projectSlug is used
   */
  readonly projectId?: string;

  /** The environment slug, e.g. `prod`. */
  readonly envSlug: string;

  /**
   * The folder to read, e.g. `/compute/snowflake`. Starts with `/`.
   *
   * @default '/'
   * @requirement REQ-132 scoping
   */
  readonly secretsPath?: string;

  /**
   * Also read the folders below `secretsPath`.
   *
   * @default false
   */
  readonly recursive?: boolean;

  /** How the operator authenticates to Infisical. */
  readonly authentication: InfisicalAuthentication;

  /**
   * How often the operator re-reads Infisical, as a duration (`60s`, `5m`); at least 5s.
   *
   * @default '60s' (the operator's own default is 5 minutes)
   * @requirement REQ-133
   */
  readonly resyncInterval?: string;

  /**
   * How often the credential is rotated in Infisical. Jobs that read the Secret must then have an
   * `activeDeadlineSeconds` of at most this period, so that every run completes before the
   * secret expires.
   *
   * @default - no rotation declared
   * @requirement REQ-138
   */
  readonly rotationPeriod?: string;

  /** Name of the Kubernetes Secret the operator writes. */
  readonly secretName: string;

  /** The keys the managed Secret will hold (the secret names in the Infisical folder). */
  readonly keys: string[];

  /**
   * What happens to the managed Secret when the resource is deleted. `Owner` makes the Secret
   * owned by the resource, so GitOps tools see it as part of the application and do not report
   * or prune it as an orphan, and it goes away with the resource. `Orphan` (the operator's own
   * default) leaves it behind.
   *
   * @default CreationPolicy.OWNER
   */
  readonly creationPolicy?: CreationPolicy;

  /**
   * The managed Secret's type.
   *
   * @default 'Opaque'
   */
  readonly secretType?: string;

  /**
   * Go templates for the managed Secret's keys, e.g. `{ DSN: 'postgres://{{ .USER.Value }}@db' }`.
   *
   * @default - the Infisical secrets are copied as they are
   */
  readonly templateData?: { [key: string]: string };

  /**
   * With `templateData`, also copy every Infisical secret as it is (v1alpha1 only).
   *
   * @default - false
   */
  readonly includeAllSecrets?: boolean;

  /**
   * Which operator API to synthesize for.
   *
   * @default InfisicalOperatorApi.V1ALPHA1
   */
  readonly operatorApi?: InfisicalOperatorApi;

  /**
   * Other domains that also get a copy of the managed Secret, each in its own namespace, with its
   * own {@link IFloeSecret} (and so its own RBAC). Get a copy with {@link InfisicalSecretSource.secretIn}.
   *
   * @default - only the source's own domain
   */
  readonly alsoSyncTo?: FloeDomain[];
}

/**
 * Syncs a folder of an Infisical project into a Kubernetes Secret of the domain through the
 * Infisical operator, as an `InfisicalSecret` (`v1alpha1`) or, for newer operators, an
 * `InfisicalConnection` + `InfisicalAuth` + `InfisicalStaticSecret` trio (`v1beta1`).
 *
 * {@link InfisicalSecretSource.secret} is the managed Secret as an {@link IFloeSecret}: workloads
 * use it like any other secret, with the same name-scoped RBAC. A {@link SecretMountedDeployment}
 * that reads it carries the operator's auto-reload annotation; Jobs never do.
 */
export class InfisicalSecretSource extends Construct {
  /** The managed Secret in the source's own domain. */
  public readonly secret: IFloeSecret;
  /** The domain of the source. */
  public readonly domain: FloeDomain;
  /** The operator API synthesized. */
  public readonly operatorApi: InfisicalOperatorApi;
  /** The refresh interval. */
  public readonly resyncInterval: string;
  /** The creation policy of the managed Secrets. */
  public readonly creationPolicy: CreationPolicy;
  /** The source record that every managed Secret of this source carries. */
  public readonly sourceInfo: SecretSourceInfo;

  private readonly copies = new Map<FloeDomain, IFloeSecret>();

  public constructor(scope: Construct, id: string, props: InfisicalSecretSourceProps) {
    const path = childPath(scope, id);
    checkInfisicalProps(path, props);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.operatorApi = props.operatorApi ?? InfisicalOperatorApi.V1ALPHA1;
    this.resyncInterval = props.resyncInterval ?? '60s';
    this.creationPolicy = props.creationPolicy ?? CreationPolicy.OWNER;
    this.sourceInfo = {
      kind: 'infisical',
      source: this.node.path,
      refreshInterval: this.resyncInterval,
      rotationPeriod: props.rotationPeriod,
      restartsWorkloads: true,
    };

    const authRef = this.operatorApi === InfisicalOperatorApi.V1BETA1 ? this.synthConnectionAndAuth(props) : undefined;
    for (const domain of [this.domain, ...(props.alsoSyncTo ?? [])]) {
      if (this.copies.has(domain)) {
        throw constructError(this, `domain ${quote(domain.domainName)} is listed twice for the managed Secret`, 'list each domain once in alsoSyncTo');
      }
      // Each copy is declared in its own domain, with its own resource beside it: its RBAC and
      // checks are that domain's, and an Owner reference never crosses namespaces (Kubernetes
      // treats a cross-namespace owner as absent and may garbage-collect the Secret).
      const home = domain === this.domain ? this : new Construct(domain, `InfisicalCopy-${this.node.addr}`);
      this.copies.set(domain, new FloeSecret(home, 'Secret', { secretName: props.secretName, keys: props.keys, source: this.sourceInfo }));
      if (authRef) this.synthStaticSecret(home, domain, props, authRef);
      else this.synthInfisicalSecret(home, domain, props);
    }
    this.secret = this.copies.get(this.domain)!;
  }

  /**
   * The managed Secret's copy in `domain`: the source's own domain or one of `alsoSyncTo`.
   *
   * @throws when the source does not sync into `domain`
   */
  public secretIn(domain: FloeDomain): IFloeSecret {
    const copy = this.copies.get(domain);
    if (!copy) {
      throw constructError(
        this,
        `does not sync into domain ${quote(domain.domainName)} (it syncs into ${[...this.copies.keys()].map((d) => d.domainName).join(', ')})`,
        'add that domain to alsoSyncTo',
      );
    }
    return copy;
  }

  private get resourceName(): string {
    return Names.toDnsLabel(this);
  }

  private get resourceMetadata() {
    // The operator copies the resource's labels and annotations onto the Secret it manages.
    return { name: this.resourceName, labels: { [SOURCE_LABEL]: 'infisical' }, annotations: sourceAnnotations(this.sourceInfo) };
  }

  private synthInfisicalSecret(scope: Construct, domain: FloeDomain, props: InfisicalSecretSourceProps): void {
    const secretsScope = {
      projectSlug: props.projectSlug,
      projectId: props.projectId,
      envSlug: props.envSlug,
      secretsPath: props.secretsPath ?? '/',
      recursive: props.recursive ?? false,
    };
    const auth = props.authentication;
    const authentication: InfisicalSecretSpecAuthentication = auth.method === 'universal'
      ? { universalAuth: { credentialsRef: { secretName: auth.ref.name, secretNamespace: auth.ref.namespace }, secretsScope } }
      : { kubernetesAuth: { identityId: auth.identityId!, serviceAccountRef: { name: auth.ref.name, namespace: auth.ref.namespace }, secretsScope } };
    const template = props.templateData || props.includeAllSecrets !== undefined
      ? { data: props.templateData, includeAllSecrets: props.includeAllSecrets }
      : undefined;
    new InfisicalSecret(scope, 'Resource', {
      metadata: this.resourceMetadata,
      spec: {
        hostApi: `${props.siteUrl ?? INFISICAL_CLOUD_URL}/api`,
        syncConfig: { resyncInterval: this.resyncInterval },
        authentication,
        managedKubeSecretReferences: [{
          secretName: props.secretName,
          secretNamespace: domain.namespace,
          creationPolicy: this.creationPolicy,
          secretType: props.secretType ?? 'Opaque',
          template,
        }],
      },
    });
  }

  /** The v1beta1 connection and auth, shared by the static secrets of every domain. */
  private synthConnectionAndAuth(props: InfisicalSecretSourceProps): NamespacedName {
    const name = this.resourceName;
    const namespace = this.domain.namespace;
    new InfisicalConnection(this, 'Connection', { metadata: { name }, spec: { address: props.siteUrl ?? INFISICAL_CLOUD_URL } });
    const auth = props.authentication;
    new InfisicalAuth(this, 'Auth', {
      metadata: { name },
      spec: {
        infisicalConnectionRef: { name, namespace },
        method: auth.method === 'universal' ? InfisicalAuthSpecMethod.UNIVERSAL : InfisicalAuthSpecMethod.KUBERNETES,
        ...(auth.method === 'universal'
          ? {
            universal: {
              clientIdRef: { name: auth.ref.name, namespace: auth.ref.namespace, key: 'clientId' },
              clientSecretRef: { name: auth.ref.name, namespace: auth.ref.namespace, key: 'clientSecret' },
            },
          }
          : {
            kubernetes: {
              identityIdRef: { name: auth.identityIdSecret!.name, namespace: auth.identityIdSecret!.namespace, key: 'identityId' },
              serviceAccountRef: { name: auth.ref.name, namespace: auth.ref.namespace },
            },
          }),
      },
    });
    return { name, namespace };
  }

  private synthStaticSecret(scope: Construct, domain: FloeDomain, props: InfisicalSecretSourceProps, authRef: NamespacedName): void {
    const metadata = this.resourceMetadata;
    new InfisicalStaticSecret(scope, 'Resource', {
      metadata,
      spec: {
        infisicalAuthRef: authRef,
        syncOptions: { refreshInterval: this.resyncInterval },
        sources: [{
          projectSlug: props.projectSlug,
          projectId: props.projectId,
          environmentSlug: props.envSlug,
          secretPath: props.secretsPath ?? '/',
          recursive: props.recursive ?? false,
        }],
        targets: [{
          kind: InfisicalStaticSecretSpecTargetsKind.SECRET,
          name: props.secretName,
          namespace: domain.namespace,
          creationPolicy: this.creationPolicy === CreationPolicy.OWNER
            ? InfisicalStaticSecretSpecTargetsCreationPolicy.OWNER
            : InfisicalStaticSecretSpecTargetsCreationPolicy.ORPHAN,
          secretType: props.secretType ?? 'Opaque',
          metadata: { labels: metadata.labels, annotations: metadata.annotations },
          template: props.templateData
            ? { engineVersion: InfisicalStaticSecretSpecTargetsTemplateEngineVersion.V1, data: props.templateData }
            : undefined,
        }],
      },
    });
  }
}

function checkInfisicalProps(path: string, props: InfisicalSecretSourceProps): void {
  requireProps(path, props, '{ projectSlug, envSlug, authentication, secretName, keys }');
  for (const [field, fix] of [
    ['siteUrl', 'give the instance URL, e.g. "https://infisical.example.com"'],
    ['projectSlug', 'copy the slug from the project settings in Infisical'],
    ['projectId', 'copy the id from the project settings in Infisical'],
    ['secretsPath', 'write the folder from the project root, e.g. "/compute/snowflake"'],
    ['resyncInterval', 'write it like "60s"'],
    ['rotationPeriod', 'write it like "24h"'],
    ['secretType', 'give the Secret type, e.g. "Opaque"'],
  ] as const) optionalString(path, field, props[field], fix);
  requireString(path, 'envSlug', props.envSlug, 'give the environment slug, e.g. "prod"');
  requireString(path, 'secretName', props.secretName, 'name the Secret the operator writes, e.g. "snowflake-credentials"');
  requireStringList(path, 'keys', props.keys, 'list the keys the managed Secret will hold, e.g. ["user", "password"]');
  optionalBoolean(path, 'recursive', props.recursive, 'pass true or false');
  optionalBoolean(path, 'includeAllSecrets', props.includeAllSecrets, 'pass true or false');
  optionalStringMap(path, 'templateData', props.templateData, 'give one Go template per key, e.g. { DSN: "postgres://{{ .USER.Value }}@db" }');
  optionalOneOf(path, 'operatorApi', props.operatorApi, Object.values(InfisicalOperatorApi), 'use InfisicalOperatorApi.V1ALPHA1 or InfisicalOperatorApi.V1BETA1');
  optionalOneOf(path, 'creationPolicy', props.creationPolicy, Object.values(CreationPolicy), 'use CreationPolicy.OWNER or CreationPolicy.ORPHAN');
  if (props.alsoSyncTo !== undefined) {
    requireList(path, 'alsoSyncTo', props.alsoSyncTo, 'list the FloeDomains that also get a copy');
    props.alsoSyncTo.forEach((domain, index) => {
      if (!FloeDomain.isFloeDomain(domain)) throw constructError(path, `alsoSyncTo[${index}] is not a FloeDomain, got ${describeValue(domain)}`, 'list the FloeDomains that also get a copy');
    });
  }
  checkAuthentication(path, props.authentication);
  checkSourceCommon(path, {
    secretName: props.secretName,
    keys: props.keys,
    refreshInterval: props.resyncInterval,
    refreshField: 'resyncInterval',
    rotationPeriod: props.rotationPeriod,
    minRefreshSeconds: 5,
    defaultRefreshSeconds: 60,
  });
  if ((props.projectSlug === undefined) === (props.projectId === undefined)) {
    throw constructError(
      path,
      props.projectSlug === undefined ? 'neither projectSlug nor projectId is set' : `both projectSlug ${quote(props.projectSlug)} and projectId ${quote(props.projectId)} are set`,
      'give exactly one of them: projectSlug (e.g. "floe-analytics") or projectId',
    );
  }
  if (props.projectSlug !== undefined && !SLUG.test(props.projectSlug)) {
    throw constructError(path, `projectSlug ${quote(props.projectSlug)} is not a project slug (lower-case letters, digits and "-")`, 'copy the slug from the project settings in Infisical, e.g. "floe-analytics"');
  }
  if (props.projectId !== undefined && !/^[A-Za-z0-9-]+$/.test(props.projectId)) {
    throw constructError(path, `projectId ${quote(props.projectId)} is not a project id (letters, digits and "-")`, 'copy the id from the project settings in Infisical');
  }
  if (props.envSlug.trim() === '') throw constructError(path, 'envSlug is empty', 'give the environment slug, e.g. "prod"');
  if (!SLUG.test(props.envSlug)) {
    throw constructError(path, `envSlug ${quote(props.envSlug)} is not an environment slug (lower-case letters, digits and "-")`, 'use the slug of the environment as Infisical shows it, e.g. "prod" or "staging"');
  }
  checkSecretsPath(path, props.secretsPath ?? '/');
  for (const key of Object.keys(props.templateData ?? {})) {
    const problem = secretKeyProblem(key);
    if (problem) throw constructError(path, `templateData key ${quote(key)} ${problem}`, 'name each template after the key of the managed Secret it fills, e.g. "DSN"');
  }
  checkSiteUrl(path, props.siteUrl ?? INFISICAL_CLOUD_URL);
  const auth = props.authentication;
  for (const [field, value] of [['authentication name', auth.ref.name], ['authentication namespace', auth.ref.namespace]] as const) {
    const problem = dnsSubdomainProblem(value);
    if (problem) throw constructError(path, `${field} ${quote(value)} ${problem}`, 'reference the Secret or ServiceAccount by its Kubernetes name and namespace');
  }
  if (auth.method === 'kubernetes' && !auth.identityId) throw constructError(path, 'kubernetesAuth identityId is empty', 'give the machine identity id');
  if (props.operatorApi === InfisicalOperatorApi.V1BETA1) {
    if (props.includeAllSecrets !== undefined) {
      throw constructError(path, 'includeAllSecrets exists only for operatorApi v1alpha1', 'remove it, or list every key in templateData');
    }
    if (auth.method === 'kubernetes' && !auth.identityIdSecret) {
      throw constructError(
        path,
        'kubernetes auth with operatorApi v1beta1 needs the Secret that holds the identity id',
        'pass identityIdSecret to InfisicalAuthentication.kubernetesAuth (the Secret holds the key "identityId")',
      );
    }
  }
}
