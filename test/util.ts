import { randomBytes } from 'node:crypto';
import { App, Chart, Testing } from 'cdk8s';
import { FloeDomain, FloeSecret, IFloeSecret, InfisicalAuthentication, InfisicalSecretSource } from '../src';

/** A manifest as synthesized: a plain object with at least kind and metadata. */
export type Manifest = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** A fresh app with one domain (and a second one when asked). */
export function domains(...names: string[]): { app: App; domains: FloeDomain[] } {
  const app = Testing.app();
  return { app, domains: names.map((name) => new FloeDomain(app, name, { domain: name })) };
}

/** A Secret name no code path can have hard-coded. */
export function randomSecretName(prefix: string): string {
  return `${prefix}-${randomValue().toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 10)}`;
}

/**
 * The domain `sales` with an Infisical-managed secret (`managed`, see
 * {@link infisicalManagedSecret}) and a Secret created outside the app (`manual`, key `k`): what
 * the long-running workload tests read.
 */
export function longRunningFixture(options: { rotationPeriod?: string; resyncInterval?: string } = {}) {
  const { domains: [sales] } = domains('sales');
  const managed = infisicalManagedSecret(sales, options);
  const manual = FloeSecret.fromSecretName(sales, 'Manual', 'manual', { keys: ['k'] });
  return { sales, managed, manual };
}

/** The Secret `api-token` (key TOKEN) of an InfisicalSecretSource `Src` in `domain`: an operator-managed secret. */
export function infisicalManagedSecret(domain: FloeDomain, options: { rotationPeriod?: string; resyncInterval?: string } = {}): IFloeSecret {
  return new InfisicalSecretSource(domain, 'Src', {
    projectSlug: 'p',
    envSlug: 'prod',
    authentication: InfisicalAuthentication.universalAuth({ name: 'creds', namespace: 'floe-platform' }),
    secretName: 'api-token',
    keys: ['TOKEN'],
    ...options,
  }).secret;
}

/** The manifests of a chart. */
export function synth(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

/** The one manifest of `kind` named `name`; fails the test when there is not exactly one. */
export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} named ${name}, found ${found.length} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  }
  return found[0];
}

/** The pod spec of a Job or CronJob manifest. */
export function podSpec(manifest: Manifest): any {
  return manifest.kind === 'CronJob' ? manifest.spec.jobTemplate.spec.template.spec : manifest.spec.template.spec;
}

/** A random string of url-safe characters, used as a stand-in secret value. */
export function randomValue(): string {
  return randomBytes(24).toString('base64url');
}

/** Secret names a pod spec reads, from env, envFrom and volumes: independent of the Role code. */
export function secretsReadByPod(pod: any): string[] {
  const names = new Set<string>();
  for (const c of pod.containers ?? []) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef) names.add(e.secretRef.name);
  }
  for (const v of pod.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
  return [...names].sort();
}
