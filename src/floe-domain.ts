import { DOMAIN_NAMESPACE_PREFIX, MAX_DOMAIN_NAME_LENGTH } from '@floe-secrets/core';
import { ApiObject, Chart, ChartProps, DependencyGraph, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { optionalString, optionalStringMap, requireProps, requireString } from './internal/runtime-props';
import { withSyncWaves } from './internal/sync-waves';
import { ensureSynthCheck } from './internal/synth-check';
import { childPath, constructError, dnsLabelProblem, quote } from './internal/validation';

/** Label every object of a domain carries, with the domain name as its value. */
export const DOMAIN_LABEL = 'floe.dev/domain';

export { DOMAIN_NAMESPACE_PREFIX, MAX_DOMAIN_NAME_LENGTH } from '@floe-secrets/core';

/** The namespaces of the domains declared in each app (by its root construct): namespace to its domain. */
const NAMESPACES_BY_APP = new WeakMap<IConstruct, Map<string, { readonly path: string; readonly domain: string }>>();

/** Namespaces that are never a domain's: Kubernetes' own, and `default`, which every pod without a namespace lands in. */
const RESERVED_NAMESPACE = /^(default|kube-.*)$/;

/** Properties of a {@link FloeDomain}. */
export interface FloeDomainProps {
  /**
   * The data domain, e.g. `sales`. Its namespace is `floe-<domain>` (see `environment` and
   * `existingNamespace` for the others).
   *
   * A DNS-1123 label of at most 58 characters, so that `floe-<domain>` fits in 63. It is the value
   * of the `floe.dev/domain` label of every object the domain synthesizes, whatever its namespace.
   */
  readonly domain: string;

  /**
   * The environment, for a cluster that holds several copies of a domain: `environment: 'dev'`
   * puts the domain in namespace `floe-<domain>-dev`, which the domain creates.
   *
   * A DNS-1123 label; `floe-<domain>-<environment>` must fit in 63 characters. Two FloeDomains
   * of one app may share a domain when their environments differ. Cannot be combined with
   * `existingNamespace`.
   *
   * @default - no environment: the namespace is `floe-<domain>`
   */
  readonly environment?: string;

  /**
   * A namespace the platform already owns, e.g. `data-sales`: every object of the domain lands in
   * it, and the domain creates no Namespace object (`namespaceResource` is undefined). The
   * namespace must exist before the domain's objects are applied.
   *
   * A DNS-1123 label; not `default` nor a `kube-` namespace. Cannot be combined with `environment`
   * (name the namespace of each environment instead).
   *
   * @default - the domain creates and owns its namespace, `floe-<domain>` (or `floe-<domain>-<environment>`)
   */
  readonly existingNamespace?: string;

  /**
   * Extra labels for the namespace and every object the domain synthesizes.
   *
   * @default - only `floe.dev/domain: <domain>`
   */
  readonly labels?: { [key: string]: string };
}

/**
 * One data domain: a chart whose objects all land in one namespace, labelled with
 * `floe.dev/domain: <domain>`. By default the domain creates its namespace, `floe-<domain>`, or
 * `floe-<domain>-<environment>` with an `environment`; with `existingNamespace` it uses a
 * namespace the platform already owns and creates none.
 *
 * Secrets, workloads and RBAC created inside a domain belong to it; using a secret of one domain
 * from another (another environment of the same domain included) is a synth error. Each domain
 * synthesizes to its own file (`dist/<id>.k8s.yaml`), which maps naturally onto one Argo CD
 * Application per namespace. Each namespace belongs to one FloeDomain per app.
 *
 * @requirement REQ-139
 */
export class FloeDomain extends Chart {
  /**
   * The namespace a FloeDomain with `props` would have, after the checks its constructor applies,
   * for callers that must check several domains before creating any.
   *
   * @throws naming `path` when the domain, environment or existing namespace is refused
   * @internal
   */
  public static _namespaceOf(path: string, props: FloeDomainProps): string {
    return domainNamespace(path, props);
  }

  /** Whether `x` is a {@link FloeDomain}. */
  public static isFloeDomain(x: unknown): x is FloeDomain {
    return x instanceof FloeDomain;
  }

  /**
   * The domain `scope` belongs to: the nearest enclosing {@link FloeDomain}.
   *
   * @throws when `scope` is not inside a domain
   */
  public static of(scope: IConstruct): FloeDomain {
    const found = scope.node.scopes.slice().reverse().find(FloeDomain.isFloeDomain);
    if (!found) {
      throw constructError(scope, 'is not inside a FloeDomain', 'create it with a FloeDomain (or a construct inside one) as its scope');
    }
    return found;
  }

  /** The domain name, e.g. `sales`. */
  public readonly domainName: string;

  /** The environment, e.g. `dev`, or undefined when the domain has none. */
  public readonly environment?: string;

  /**
   * The domain's namespace: `floe-<domain>`, `floe-<domain>-<environment>`, or the
   * `existingNamespace` it was given.
   */
  public declare readonly namespace: string;

  /**
   * The Namespace object this domain creates, or undefined when it uses an `existingNamespace`
   * (which the platform owns and this app does not synthesize).
   */
  public readonly namespaceResource?: k8s.KubeNamespace;

  private readonly claimedNames = new Map<string, string>();

  public constructor(scope: Construct, id: string, props: FloeDomainProps) {
    const path = childPath(scope, id);
    requireProps(path, props, `new FloeDomain(app, '${id}', { domain: 'sales' })`);
    requireString(path, 'domain', props.domain, 'give the data domain, e.g. { domain: "sales" }');
    optionalString(path, 'environment', props.environment, 'give the environment as a string, e.g. { environment: "dev" }');
    optionalString(path, 'existingNamespace', props.existingNamespace, 'give the name of the namespace, e.g. { existingNamespace: "data-sales" }');
    optionalStringMap(path, 'labels', props.labels, 'give labels as a map of strings, e.g. { team: "sales" }');
    const namespace = domainNamespace(path, props);
    const declared = NAMESPACES_BY_APP.get(scope.node.root) ?? new Map<string, { path: string; domain: string }>();
    const previous = declared.get(namespace);
    if (previous !== undefined) {
      throw previous.domain === props.domain
        ? constructError(
          path,
          `domain ${quote(props.domain)} is already declared by ${previous.path}, and both would write namespace ${namespace}`,
          `declare each domain once per namespace and pass that FloeDomain (${previous.path}) to the constructs that need it, or give this one another environment`,
        )
        : constructError(
          path,
          `namespace ${namespace} of domain ${quote(props.domain)} is already the namespace of domain ${quote(previous.domain)} (${previous.path})`,
          'give each domain its own namespace (another existingNamespace or environment)',
        );
    }
    const chartProps: ChartProps = {
      namespace,
      labels: { ...props.labels, [DOMAIN_LABEL]: props.domain },
    };
    super(scope, id, chartProps);
    declared.set(namespace, { path: this.node.path, domain: props.domain });
    NAMESPACES_BY_APP.set(scope.node.root, declared);
    ensureSynthCheck(this);
    this.domainName = props.domain;
    this.environment = props.environment;
    if (props.existingNamespace === undefined) {
      this.namespaceResource = new k8s.KubeNamespace(this, 'Resource', {
        metadata: { name: namespace },
      });
      // The chart stamps its namespace on every object; a Namespace is cluster-scoped and has none.
      ApiObject.of(this.namespaceResource).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }

  /**
   * Renders the domain's objects in dependency order, after validating the domain's constructs.
   *
   * cdk8s's `Chart.toJson()` resolves and validates the whole app for every chart it renders, so
   * an app of D domains would validate everything D + 1 times during one synth. `App.synth()`
   * already validates the whole app once before it writes anything; a domain validates only its
   * own constructs here, and orders its objects exactly as cdk8s does. `App.synth()` also renders
   * every object once during that validation, so that an object that cannot be rendered stops
   * the synth before any file is written (all or nothing). Objects get their Argo CD sync wave
   * here (see `SyncWaves`).
   */
  public toJson(): any[] {
    const errors = this.node.findAll().flatMap((c) => c.node.validate().map((e) => `[${c.node.path}] ${e}`));
    if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
    return withSyncWaves(this, new DependencyGraph(this.node).topology()
      .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === this)
      .map((o) => o.toJson()));
  }

  /**
   * Records that `owner` synthesizes the `kind` object named `name` in this domain's namespace.
   *
   * @throws when another construct already claimed that kind and name
   * @internal
   */
  public _claimName(owner: IConstruct, kind: string, name: string): void {
    const key = `${kind}/${name}`;
    const previous = this.claimedNames.get(key);
    if (previous !== undefined && previous !== owner.node.path) {
      throw constructError(
        owner,
        `${kind} name ${quote(name)} is already used in namespace ${this.namespace} by ${previous}`,
        'give one of them another name',
      );
    }
    this.claimedNames.set(key, owner.node.path);
  }
}

/**
 * The namespace of the domain `props` describe, after checking the domain, the environment and the
 * existing namespace.
 */
function domainNamespace(path: string, props: FloeDomainProps): string {
  const domainProblem = dnsLabelProblem(props.domain, MAX_DOMAIN_NAME_LENGTH);
  if (domainProblem) {
    throw constructError(
      path,
      `domain ${quote(props.domain)} ${domainProblem}`,
      `use a short lower-case name such as "sales"; its namespace will be "${DOMAIN_NAMESPACE_PREFIX}<domain>"`,
    );
  }
  if (props.environment !== undefined && props.existingNamespace !== undefined) {
    throw constructError(
      path,
      `environment ${quote(props.environment)} and existingNamespace ${quote(props.existingNamespace)} are both set`,
      'keep one: environment for a namespace the domain creates (floe-<domain>-<environment>), or existingNamespace for one the platform owns (one FloeDomain per environment, each with its own namespace)',
    );
  }
  if (props.existingNamespace !== undefined) {
    const existing = props.existingNamespace;
    const problem = dnsLabelProblem(existing) ?? (RESERVED_NAMESPACE.test(existing) ? 'is reserved for Kubernetes itself and pods without a namespace' : undefined);
    if (problem) {
      throw constructError(path, `existingNamespace ${quote(existing)} ${problem}`, 'give the namespace the platform made for this domain, e.g. "data-sales"');
    }
    return existing;
  }
  if (props.environment === undefined) return `${DOMAIN_NAMESPACE_PREFIX}${props.domain}`;
  const environmentProblem = dnsLabelProblem(props.environment);
  if (environmentProblem) {
    throw constructError(path, `environment ${quote(props.environment)} ${environmentProblem}`, 'use a short lower-case name such as "dev" or "prod"');
  }
  const namespace = `${DOMAIN_NAMESPACE_PREFIX}${props.domain}-${props.environment}`;
  if (namespace.length > 63) {
    throw constructError(
      path,
      `namespace ${quote(namespace)} of domain ${quote(props.domain)} and environment ${quote(props.environment)} is ${namespace.length} characters long (at most 63)`,
      `shorten the domain or the environment: together they may have at most ${MAX_DOMAIN_NAME_LENGTH - 1} characters`,
    );
  }
  return namespace;
}
