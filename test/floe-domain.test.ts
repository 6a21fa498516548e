import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { DOMAIN_LABEL, FloeDomain, MAX_DOMAIN_NAME_LENGTH, SecretMountedJob } from '../src';
import { domains, find, synth } from './util';

describe('FloeDomain', () => {
  test('creates namespace floe-<domain> labelled with its domain, and puts its objects in it', () => {
    // GIVEN / WHEN
    const { domains: [sales] } = domains('sales');
    const manifests = synth(sales);

    // THEN
    const ns = find(manifests, 'Namespace', 'floe-sales');
    expect(ns.metadata.labels).toEqual({ [DOMAIN_LABEL]: 'sales' });
    expect(ns.metadata.namespace).toBeUndefined();
    expect(sales.namespace).toBe('floe-sales');
    expect(sales.domainName).toBe('sales');
    expect(manifests).toMatchSnapshot();
  });

  test('adds extra labels but keeps the domain label authoritative', () => {
    const app = Testing.app();
    const d = new FloeDomain(app, 'd', { domain: 'finance', labels: { team: 'fin', [DOMAIN_LABEL]: 'spoofed' } });
    expect(find(synth(d), 'Namespace', 'floe-finance').metadata.labels).toEqual({ team: 'fin', [DOMAIN_LABEL]: 'finance' });
  });

  test('FloeDomain.of finds the enclosing domain through nested constructs', () => {
    const { domains: [sales] } = domains('sales');
    const inner = new Construct(new Construct(sales, 'A'), 'B');
    expect(FloeDomain.of(inner)).toBe(sales);
  });

  test('FloeDomain.of outside a domain names the construct and the fix', () => {
    const app = Testing.app();
    const stray = new Construct(app, 'Stray');
    expect(() => FloeDomain.of(stray)).toThrow(/^Stray: is not inside a FloeDomain; create it with a FloeDomain/);
  });

  test.each([
    ['Sales', /not a DNS-1123 label/],
    ['sales_eu', /not a DNS-1123 label/],
    ['-sales', /not a DNS-1123 label/],
    ['', /is empty/],
    ['a'.repeat(MAX_DOMAIN_NAME_LENGTH + 1), /59 characters long \(at most 58\)/],
  ])('rejects domain %j', (name, message) => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'Bad', { domain: name })).toThrow(message);
    expect(() => new FloeDomain(app, 'Bad2', { domain: name })).toThrow(/^Bad2: domain .* use a short lower-case name/);
  });

  test('accepts the longest domain whose namespace fits 63 characters', () => {
    const app = Testing.app();
    const d = new FloeDomain(app, 'Long', { domain: 'a'.repeat(MAX_DOMAIN_NAME_LENGTH) });
    expect(d.namespace).toHaveLength(63);
  });
});

describe('FloeDomain bad input', () => {
  test('a second FloeDomain with the same domain in one app is refused, naming both and leaving nothing behind', () => {
    // GIVEN
    const app = Testing.app();
    new FloeDomain(app, 'sales', { domain: 'sales' });

    // WHEN / THEN
    expect(() => new FloeDomain(app, 'sales2', { domain: 'sales' })).toThrow(
      /^sales2: domain "sales" is already declared by sales, and both would write namespace floe-sales; declare each domain once and pass that FloeDomain \(sales\) to the constructs that need it$/,
    );
    expect(app.node.tryFindChild('sales2')).toBeUndefined();
    expect(app.charts.map((c) => c.node.id)).toEqual(['sales']);
  });

  test('the same domain in two apps is fine', () => {
    new FloeDomain(Testing.app(), 'sales', { domain: 'sales' });
    expect(() => new FloeDomain(Testing.app(), 'sales', { domain: 'sales' })).not.toThrow();
  });

  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^D: props must be an object, got undefined; pass the props, e.g. new FloeDomain\(app, 'D', \{ domain: 'sales' \}\)$/],
    ['empty props', {}, /^D: domain is missing \(expected a string\); give the data domain, e.g. \{ domain: "sales" \}$/],
    ['a number as domain', { domain: 7 }, /^D: domain must be a string, got number 7; give the data domain/],
    ['labels that are not strings', { domain: 'sales', labels: { team: 1 } }, /^D: labels\["team"\] must be a string, got number 1; give labels as a map of strings/],
  ])('untyped JavaScript input: %s is a clear error, not a TypeError', (_, props, message) => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'D', props as any)).toThrow(message);
    expect(app.node.tryFindChild('D')).toBeUndefined();
  });
});

describe('App.synth is all or nothing', () => {
  function withOutdir(fn: (outdir: string) => void): void {
    const outdir = mkdtempSync(join(tmpdir(), 'floe-synth-'));
    try {
      fn(outdir);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }

  test('a failing escape hatch in a later domain leaves no file of the earlier domains', () => {
    withOutdir((outdir) => {
      // GIVEN two good domains, then a third whose Job has a JSON patch at a path that does not exist
      const app = new App({ outdir });
      for (const name of ['sales', 'marketing']) new SecretMountedJob(new FloeDomain(app, name, { domain: name }), 'Load', { name: 'load', image: 'loader:1' });
      const job = new SecretMountedJob(new FloeDomain(app, 'zfinance', { domain: 'zfinance' }), 'Load', { name: 'load', image: 'loader:1' });
      ApiObject.of(job.resource).addJsonPatch(JsonPatch.replace('/spec/nope/deeper', 1));
      expect(app.charts.map((c) => c.node.id)).toEqual(['sales', 'marketing', 'zfinance']);

      // WHEN / THEN
      expect(() => app.synth()).toThrow(
        /zfinance\/Load\/Resource: Job "load" cannot be rendered \(Failed serializing construct at path 'zfinance\/Load\/Resource'.*\); fix the escape hatch \(ApiObject.of\(...\).addJsonPatch\) or value that fails; no file of this app was written/,
      );
      expect(readdirSync(outdir)).toEqual([]);
    });
  });

  test('a failing plain cdk8s chart after the domains stops the synth too', () => {
    withOutdir((outdir) => {
      const app = new App({ outdir });
      new FloeDomain(app, 'sales', { domain: 'sales' });
      const plain = new Chart(app, 'zplain');
      new ApiObject(plain, 'Cm', { apiVersion: 'v1', kind: 'ConfigMap' }).addJsonPatch(JsonPatch.replace('/data/x', '1'));

      expect(() => app.synth()).toThrow(/zplain\/Cm: ConfigMap ".*" cannot be rendered/);
      expect(readdirSync(outdir)).toEqual([]);
    });
  });

  test('an app without failures writes every domain', () => {
    withOutdir((outdir) => {
      const app = new App({ outdir });
      for (const name of ['sales', 'marketing']) new FloeDomain(app, name, { domain: name });
      app.synth();
      expect(readdirSync(outdir).sort()).toEqual(['marketing.k8s.yaml', 'sales.k8s.yaml']);
    });
  });
});
