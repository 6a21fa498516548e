import { ClusterReader } from './backends';
import { CheckContext } from './checks';
import { describe, pool } from './util';

interface Operator {
  readonly name: string;
  readonly install: string;
}

const OPERATORS: { readonly [group: string]: Operator } = {
  'secrets.infisical.com': {
    name: 'the Infisical operator',
    install: 'helm repo add infisical-helm-charts https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/ && '
      + 'helm install secrets-operator infisical-helm-charts/secrets-operator -n infisical-operator --create-namespace',
  },
  'external-secrets.io': {
    name: 'the External Secrets Operator',
    install: 'helm repo add external-secrets https://charts.external-secrets.io && '
      + 'helm install external-secrets external-secrets/external-secrets -n external-secrets --create-namespace',
  },
  'secrets.hashicorp.com': {
    name: 'the Vault Secrets Operator',
    install: 'helm repo add hashicorp https://helm.releases.hashicorp.com && '
      + 'helm install vault-secrets-operator hashicorp/vault-secrets-operator -n vault-secrets-operator-system --create-namespace',
  },
  'bitnami.com': {
    name: 'the Sealed Secrets controller',
    install: 'helm repo add sealed-secrets https://bitnami-labs.github.io/sealed-secrets && helm install sealed-secrets sealed-secrets/sealed-secrets -n kube-system',
  },
};

/**
 * Checks that the CRDs of the operators the input's resources need are installed in the cluster
 * (one discovery call per API version and kind).
 *
 * @requirement REQ-133
 */
export async function checkCrds(context: CheckContext, cluster: ClusterReader): Promise<void> {
  const needed = new Map<string, { group: string; version: string; kind: string; resources: string[] }>();
  for (const doc of context.documents) {
    const apiVersion = String(doc.object.apiVersion);
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    if (!OPERATORS[group]) continue;
    const kind = String(doc.object.kind);
    const key = `${apiVersion} ${kind}`;
    const entry = needed.get(key) ?? { group, version: apiVersion.slice(slash + 1), kind, resources: [] };
    const namespace = doc.object.metadata?.namespace ?? (kind.startsWith('Cluster') ? '-' : 'default'); // ClusterSecretStore, ClusterExternalSecret
    entry.resources.push(`${namespace}/${kind}/${doc.object.metadata?.name ?? '?'}`);
    needed.set(key, entry);
  }
  context.progress.start('operator CRDs', needed.size);
  await pool([...needed.values()], async (crd) => {
    let installed: boolean;
    try {
      installed = await cluster.hasApiResource(crd.group, crd.version, `${crd.kind.toLowerCase()}s`);
    } catch (error) {
      context.errors.push(`cluster: could not check the ${crd.group}/${crd.version} ${crd.kind} CRD: ${describe(error)}`);
      return;
    } finally {
      context.progress.tick();
    }
    if (installed) return;
    const operator = OPERATORS[crd.group];
    for (const resource of crd.resources) {
      context.problems.push({
        check: 'crd',
        workload: resource,
        reference: `${crd.group}/${crd.version} ${crd.kind}`,
        message: `${operator.name} is not installed (no ${crd.group}/${crd.version} ${crd.kind})`,
        fix: `install it with helm: ${operator.install}`,
      });
    }
  });
}
