import { DOMAIN_NAMESPACE_PREFIX, MAX_DOMAIN_NAME_LENGTH } from '@floe-secrets/core';
import { ApiObject, Chart, ChartProps, DependencyGraph, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { optionalStringMap, requireProps, requireString } from './internal/runtime-props';
import { ensureSynthCheck } from './internal/synth-check';
import { childPath, constructError, dnsLabelProblem, quote } from './internal/validation';

/** Label every object of a domain carries, with the domain name as its value. */
export const DOMAIN_LABEL = 'floe.dev/domain';

export { DOMAIN_NAMESPACE_PREFIX, MAX_DOMAIN_NAME_LENGTH } from '@floe-secrets/core';

/** The domains declared in each app (by its root construct): domain name to construct path. */
const DOMAINS_BY_APP = new WeakMap<IConstruct, Map<string, string>>();

/** Properties of a {@link FloeDomain}. */
export interface FloeDomainProps {
  /**
   * The data domain, e.g. `sales`. Its namespace is `floe-<domain>`.
   *
   * A DNS-1123 label of at most 58 characters, so that the namespace fits in 63. Each domain is
   * declared once per app: a second FloeDomain with the same domain is an error.
   */
  readonly domain: string;

  /**
   * Extra labels for the namespace and every object the domain synthesizes.
   *
   * @default - only `floe.dev/domain: <domain>`
   */
  readonly labels?: { [key: string]: string };
}

/**
 * One data domain: a chart whose objects all land in the namespace `floe-<domain>`, which it
 * creates and labels with `floe.dev/domain: <domain>`.
 *
 * Secrets, workloads and RBAC created inside a domain belong to it; using a secret of one domain
 * from another is a synth error. Each domain synthesizes to its own file
 * (`dist/<id>.k8s.yaml`), which maps naturally onto one Argo CD Application per namespace.
 *
 * @requirement REQ-139
 */
export class FloeDomain extends Chart {
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

  /** The domain's namespace, `floe-<domain>`. */
  public declare readonly namespace: string;

  /** The namespace object this domain creates. */
  public readonly namespaceResource: k8s.KubeNamespace;

  private readonly claimedNames = new Map<string, string>();

  public constructor(scope: Construct, id: string, props: FloeDomainProps) {
    const path = childPath(scope, id);
    requireProps(path, props, `new FloeDomain(app, '${id}', { domain: 'sales' })`);
    requireString(path, 'domain', props.domain, 'give the data domain, e.g. { domain: "sales" }');
    optionalStringMap(path, 'labels', props.labels, 'give labels as a map of strings, e.g. { team: "sales" }');
    const problem = dnsLabelProblem(props.domain, MAX_DOMAIN_NAME_LENGTH);
    if (problem) {
      throw constructError(
        path,
        `domain ${quote(props.domain)} ${problem}`,
        `use a short lower-case name such as "sales"; its namespace will be "${DOMAIN_NAMESPACE_PREFIX}<domain>"`,
      );
    }
    const declared = DOMAINS_BY_APP.get(scope.node.root) ?? new Map<string, string>();
    const previous = declared.get(props.domain);
    if (previous !== undefined) {
      throw constructError(
        path,
        `domain ${quote(props.domain)} is already declared by ${previous}, and both would write namespace ${DOMAIN_NAMESPACE_PREFIX}${props.domain}`,
        `declare each domain once and pass that FloeDomain (${previous}) to the constructs that need it`,
      );
    }
    const namespace = `${DOMAIN_NAMESPACE_PREFIX}${props.domain}`;
    const chartProps: ChartProps = {
      namespace,
      labels: { ...props.labels, [DOMAIN_LABEL]: props.domain },
    };
    super(scope, id, chartProps);
    declared.set(props.domain, this.node.path);
    DOMAINS_BY_APP.set(scope.node.root, declared);
    ensureSynthCheck(this);
    this.domainName = props.domain;
    this.namespaceResource = new k8s.KubeNamespace(this, 'Resource', {
      metadata: { name: namespace },
    });
    // The chart stamps its namespace on every object; a Namespace is cluster-scoped and has none.
    ApiObject.of(this.namespaceResource).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }

  /**
   * Renders the domain's objects in dependency order, after validating the domain's constructs.
   *
   * cdk8s's `Chart.toJson()` resolves and validates the whole app for every chart it renders, so
   * an app of D domains would validate everything D + 1 times during one synth. `App.synth()`
   * already validates the whole app once before it writes anything; a domain validates only its
   * own constructs here, and orders its objects exactly as cdk8s does. `App.synth()` also renders
   * every object once during that validation, so that an object that cannot be rendered stops
   * the synth before any file is written (all or nothing).
   */
  public toJson(): any[] {
    const errors = this.node.findAll().flatMap((c) => c.node.validate().map((e) => `[${c.node.path}] ${e}`));
    if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
    return new DependencyGraph(this.node).topology()
      .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === this)
      .map((o) => o.toJson());
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
