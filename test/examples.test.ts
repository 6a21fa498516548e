import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdk8s';
import { buildExampleApp } from '../examples/app';
import { DbtProfile, FloeDomain, SecretMountedJob } from '../src';
import { Manifest, podSpec, secretsReadByPod } from './util';

function exampleManifests(): Map<string, Manifest[]> {
  const app = buildExampleApp(Testing.app());
  return new Map(app.charts.map((chart) => [chart.node.id, Testing.synth(chart) as Manifest[]]));
}

describe('example GitOps app', () => {
  test('synthesizes two domains into their own namespaces', () => {
    const charts = exampleManifests();
    expect([...charts.keys()]).toEqual(['sales', 'marketing']);
    for (const [domain, manifests] of charts) {
      for (const m of manifests) {
        if (m.kind === 'Namespace') expect(m.metadata.name).toBe(`floe-${domain}`);
        else expect(m.metadata.namespace).toBe(`floe-${domain}`);
      }
    }
    expect(charts.get('sales')).toMatchSnapshot('sales');
    expect(charts.get('marketing')).toMatchSnapshot('marketing');
  });

  test('every ServiceAccount may get exactly the secrets its pods read, with get only, never cluster-wide', () => {
    for (const manifests of exampleManifests().values()) {
      const workloads = manifests.filter((m) => ['Job', 'CronJob', 'Deployment'].includes(m.kind));
      expect(workloads.length).toBeGreaterThan(0);
      for (const workload of workloads) {
        const pod = podSpec(workload);
        const binding = manifests.find((m) => m.kind === 'RoleBinding' && m.subjects.some((s: any) => s.name === pod.serviceAccountName));
        const role = manifests.find((m) => m.kind === 'Role' && m.metadata.name === binding?.roleRef.name);
        const read = secretsReadByPod(pod);
        // A pod that reads no Kubernetes Secret (Vault Agent files only) gets no Role at all.
        if (read.length === 0) expect(binding).toBeUndefined();
        else expect(role?.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: read }]);
      }
      expect(manifests.filter((m) => ['Secret', 'ClusterRole', 'ClusterRoleBinding'].includes(m.kind))).toEqual([]);
    }
  });

  test('a failing synth writes no YAML at all', () => {
    // GIVEN the example plus a third domain whose dbt profile reads an env var no job sets
    const outdir = mkdtempSync(join(tmpdir(), 'floe-synth-'));
    try {
      const app = buildExampleApp(new App({ outdir }));
      const broken = new FloeDomain(app, 'broken', { domain: 'broken' });
      const profile = new DbtProfile(broken, 'Profile', {
        profileName: 'p', target: 't', outputs: { t: { type: 'duckdb', path: "{{ env_var('MISSING') }}" } },
      });
      new SecretMountedJob(broken, 'Dbt', { image: 'dbt:1' }).useDbtProfile(profile);

      // WHEN / THEN
      expect(() => app.synth()).toThrow(/reads env vars this job does not set: MISSING/);
      expect(readdirSync(outdir)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
