import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliRun } from './run-cli';
import { TestCluster } from '../../../test/integration/cluster';

/**
 * The random values a test file writes to the cluster and backends, and everything the CLI
 * printed: {@link LeakWatch.expectNoLeak} fails when any value shows up in any output or in the
 * audit log.
 */
export class LeakWatch {
  readonly #values: string[] = [];
  readonly #outputs: string[] = [];

  /** A new random value, remembered. */
  public random(): string {
    const value = `v-${randomBytes(18).toString('base64url')}`;
    this.#values.push(value);
    return value;
  }

  /** Remembers a value made elsewhere (a token, a credential). */
  public remember(value: string): void {
    this.#values.push(value);
  }

  /** Keeps a run's output (or any text the CLI produced) for the leak check. */
  public record<T extends CliRun | string>(output: T): T {
    if (typeof output === 'string') this.#outputs.push(output);
    else this.#outputs.push(output.stdout, output.stderr);
    return output;
  }

  /** No remembered value in any recorded output, nor in the audit files of `auditDir` (if any). */
  public expectNoLeak(auditDir: string): void {
    let audit = '';
    try {
      audit = readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8')).join('');
    } catch {
      // no audit log written yet
    }
    for (const value of this.#values) {
      for (const output of [...this.#outputs, audit]) expect(output).not.toContain(value);
    }
  }
}

/** Creates Secret `namespace/name` (replacing it whole) with a random value per key; values through stdin, never argv. */
export function applySecret(cluster: TestCluster, watch: LeakWatch, namespace: string, name: string, keys: string[]): void {
  const stringData = Object.fromEntries(keys.map((k) => [k, watch.random()]));
  cluster.kubectlOk(['delete', 'secret', name, '-n', namespace, '--ignore-not-found']);
  cluster.kubectlOk(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData }));
}

/** The Secrets the example app's platform team creates with kubectl (and their namespaces, the first time). */
export function createExampleSecrets(cluster: TestCluster, watch: LeakWatch, options: { namespaces?: boolean } = {}): void {
  if (options.namespaces) {
    cluster.kubectlOk(['create', 'namespace', 'floe-sales']);
    cluster.kubectlOk(['create', 'namespace', 'floe-marketing']);
  }
  applySecret(cluster, watch, 'floe-sales', 'google-sa', ['key.json']);
  applySecret(cluster, watch, 'floe-sales', 'shop-api', ['SHOP_API_TOKEN', 'SHOP_API_URL']);
  applySecret(cluster, watch, 'floe-marketing', 'ga4-sa', ['key.json', 'project']);
}
