import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdk8s';
import {
  buildGitopsApp, EXTERNAL_SECRET_SETTINGS, GITOPS_CRONJOB, GITOPS_JOB, GitopsSources, INFISICAL_SETTINGS, SettingEffect, sourcesAfter, sourcesBefore,
  VAULT_AGENT_SETTINGS, VAULT_EXTERNAL_SECRET_SETTINGS,
} from './gitops-app';
import { domains, find, Manifest, synth } from './util';
import { buildExampleApp } from '../examples/app';

/** Every file `App.synth()` writes, by name. */
function synthToFiles(build: (app: App) => App): Map<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), 'floe-gitops-'));
  try {
    build(new App({ outdir })).synth();
    return new Map(readdirSync(outdir).sort().map((f) => [f, readFileSync(join(outdir, f), 'utf8')]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function gitopsManifests(sources: Parameters<typeof buildGitopsApp>[2]): Manifest[] {
  const app = buildGitopsApp(Testing.app(), 'gitops', sources);
  return synth(app.charts.find((c) => c.node.id === 'gitops')!);
}

/** The pod templates of the Job and the CronJob, as the YAML text a GitOps tool would apply. */
function podTemplates(manifests: Manifest[]): { job: string; cronJob: string } {
  return {
    job: JSON.stringify(find(manifests, 'Job', GITOPS_JOB).spec.template),
    cronJob: JSON.stringify(find(manifests, 'CronJob', GITOPS_CRONJOB).spec.jobTemplate.spec.template),
  };
}

/** A comparable form of a prop value (domains by name). */
function comparable(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && 'domainName' in v ? `domain:${v.domainName}` : v));
}

describe('GitOps: what a sync sees', () => {
  test('two synths of the same app write byte-identical files', () => {
    for (const build of [buildExampleApp, (app: App) => buildGitopsApp(app, 'gitops', sourcesBefore)]) {
      const first = synthToFiles(build);
      const second = synthToFiles(build);
      expect(first.size).toBeGreaterThanOrEqual(2);
      expect([...second.keys()]).toEqual([...first.keys()]);
      for (const [file, text] of first) expect({ file, text: second.get(file) }).toEqual({ file, text });
    }
  });

  test('the test changes every source setting that does not reach the pod, and none that does', () => {
    const before = sourcesBefore();
    const after = sourcesAfter(domains('copy').domains[0]);
    const cases: Array<[string, Record<string, SettingEffect>, Array<keyof GitopsSources>]> = [
      ['InfisicalSecretSource', INFISICAL_SETTINGS, ['warehouse', 'crm']],
      ['ExternalSecretSource', EXTERNAL_SECRET_SETTINGS, ['ads']],
      ['VaultSecretSource.viaExternalSecrets', VAULT_EXTERNAL_SECRET_SETTINGS, ['billing']],
      ['VaultSecretSource', VAULT_AGENT_SETTINGS, ['exportFiles']],
    ];
    for (const [what, settings, sources] of cases) {
      for (const [setting, effect] of Object.entries(settings)) {
        const changed = sources.some((s) => comparable((before[s] as any)[setting]) !== comparable((after[s] as any)[setting]));
        expect({ what, setting, changed }).toEqual({ what, setting, changed: effect === 'changed' });
      }
    }
    // ExternalSecret data: the remote side changes, the keys of the managed Secret do not.
    expect(after.ads.data.map((d) => d.secretKey)).toEqual(before.ads.data.map((d) => d.secretKey));
  });

  test('changing those settings changes the sources and leaves the Job and CronJob pod templates byte-identical', () => {
    const before = gitopsManifests(sourcesBefore);
    const after = gitopsManifests(sourcesAfter);
    expect(podTemplates(after)).toEqual(podTemplates(before));
    // Not vacuous: the sources themselves did change.
    const warehouse = (ms: Manifest[]) => ms.find((m) => m.kind === 'InfisicalSecret' && m.spec.managedKubeSecretReferences[0].secretName === 'warehouse')!;
    expect(warehouse(before).spec.syncConfig.resyncInterval).toBe('60s');
    expect(warehouse(after).spec.syncConfig.resyncInterval).toBe('5m');
    expect(after.filter((m) => m.kind === 'InfisicalStaticSecret')).toHaveLength(1);
  });

  test('a setting the pod receives (the Vault role, read by the injector) does change the pod template', () => {
    const before = podTemplates(gitopsManifests(sourcesBefore));
    const changed = podTemplates(gitopsManifests(() => ({ ...sourcesBefore(), exportFiles: { ...sourcesBefore().exportFiles, role: 'floe-gitops-v2' } })));
    expect(changed.job).not.toEqual(before.job);
    expect(changed.cronJob).not.toEqual(before.cronJob);
  });
});
