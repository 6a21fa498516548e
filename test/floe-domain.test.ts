import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { DOMAIN_LABEL, FloeDomain, FloeSecret, MAX_DOMAIN_NAME_LENGTH, SecretMountedJob, SecretReference } from '../src';
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
    expect(sales.environment).toBeUndefined();
    expect(sales.namespaceResource).toBeDefined();
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

describe('FloeDomain environments', () => {
  test('environment "dev" puts the domain in namespace floe-<domain>-dev, which it creates, with the domain label', () => {
    // GIVEN / WHEN
    const app = Testing.app();
    const dev = new FloeDomain(app, 'sales-dev', { domain: 'sales', environment: 'dev' });
    new SecretMountedJob(dev, 'Load', { name: 'load', image: 'loader:1' });
    const manifests = synth(dev);

    // THEN
    expect(dev.namespace).toBe('floe-sales-dev');
    expect(dev.environment).toBe('dev');
    expect(dev.domainName).toBe('sales');
    expect(find(manifests, 'Namespace', 'floe-sales-dev').metadata.labels).toEqual({ [DOMAIN_LABEL]: 'sales' });
    const namespaced = manifests.filter((m) => m.kind !== 'Namespace');
    expect(namespaced.map((m) => m.kind)).toContain('Job');
    for (const m of namespaced) {
      expect(m.metadata.namespace).toBe('floe-sales-dev');
      expect(m.metadata.labels[DOMAIN_LABEL]).toBe('sales');
    }
  });

  test('one app holds the same domain in two environments, each in its own namespace and file', () => {
    // GIVEN
    const app = Testing.app();
    const dev = new FloeDomain(app, 'sales-dev', { domain: 'sales', environment: 'dev' });
    const prod = new FloeDomain(app, 'sales-prod', { domain: 'sales', environment: 'prod' });

    // THEN
    expect(find(synth(dev), 'Namespace', 'floe-sales-dev')).toBeDefined();
    expect(find(synth(prod), 'Namespace', 'floe-sales-prod')).toBeDefined();
    expect(app.charts.map((c) => c.node.id)).toEqual(['sales-dev', 'sales-prod']);
  });

  test('a secret of one environment cannot be read by a workload of another environment of the same domain', () => {
    const app = Testing.app();
    const dev = new FloeDomain(app, 'sales-dev', { domain: 'sales', environment: 'dev' });
    const prod = new FloeDomain(app, 'sales-prod', { domain: 'sales', environment: 'prod' });
    const db = FloeSecret.fromSecretName(dev, 'Db', 'db-creds', { keys: ['user'] });
    expect(() => new SecretMountedJob(prod, 'Load', { image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')] })).toThrow(
      /^sales-prod\/Load: secret "db-creds" belongs to domain "sales" \(namespace floe-sales-dev\), but this construct is in domain "sales" \(namespace floe-sales-prod\)/,
    );
  });

  test('the same domain and environment twice is refused, naming the first and the fix', () => {
    const app = Testing.app();
    new FloeDomain(app, 'sales-dev', { domain: 'sales', environment: 'dev' });
    expect(() => new FloeDomain(app, 'again', { domain: 'sales', environment: 'dev' })).toThrow(
      /^again: domain "sales" is already declared by sales-dev, and both would write namespace floe-sales-dev; declare each domain once per namespace and pass that FloeDomain \(sales-dev\) to the constructs that need it, or give this one another environment$/,
    );
    expect(app.node.tryFindChild('again')).toBeUndefined();
  });

  test('a domain named like another domain with an environment cannot take its namespace', () => {
    // "sales" in environment "eu" and the domain "sales-eu" would both be floe-sales-eu
    const app = Testing.app();
    new FloeDomain(app, 'sales-eu', { domain: 'sales', environment: 'eu' });
    expect(() => new FloeDomain(app, 'saleseu', { domain: 'sales-eu' })).toThrow(
      /^saleseu: namespace floe-sales-eu of domain "sales-eu" is already the namespace of domain "sales" \(sales-eu\); give each domain its own namespace \(another existingNamespace or environment\)$/,
    );
  });

  test('accepts the longest domain and environment whose namespace fits 63 characters, and refuses one more', () => {
    const app = Testing.app();
    const domain = 'a'.repeat(50);
    const fits = new FloeDomain(app, 'Fits', { domain, environment: 'e'.repeat(MAX_DOMAIN_NAME_LENGTH - 1 - 50) });
    expect(fits.namespace).toHaveLength(63);
    expect(() => new FloeDomain(app, 'TooLong', { domain, environment: 'e'.repeat(MAX_DOMAIN_NAME_LENGTH - 50) })).toThrow(
      /^TooLong: namespace "floe-a{50}-e{8}" of domain "a{50}" and environment "e{8}" is 64 characters long \(at most 63\); shorten the domain or the environment: together they may have at most 57 characters$/,
    );
    expect(app.node.tryFindChild('TooLong')).toBeUndefined();
  });

  test.each([
    ['Dev', /not a DNS-1123 label/],
    ['dev_eu', /not a DNS-1123 label/],
    ['dev-', /not a DNS-1123 label/],
    ['', /is empty/],
  ])('rejects environment %j, naming the value and the fix', (environment, message) => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'Bad', { domain: 'sales', environment })).toThrow(message);
    expect(() => new FloeDomain(app, 'Bad2', { domain: 'sales', environment })).toThrow(
      new RegExp(`^Bad2: environment ${JSON.stringify(environment)} .*; use a short lower-case name such as "dev" or "prod"$`),
    );
    expect(app.node.tryFindChild('Bad')).toBeUndefined();
  });
});

describe('FloeDomain in an existing namespace', () => {
  test('creates no Namespace, puts every object in the existing namespace and keeps the domain label on them', () => {
    // GIVEN / WHEN
    const app = Testing.app();
    const sales = new FloeDomain(app, 'sales', { domain: 'sales', existingNamespace: 'data-sales', labels: { team: 'sales' } });
    new SecretMountedJob(sales, 'Load', { name: 'load', image: 'loader:1' });
    const manifests = synth(sales);

    // THEN
    expect(sales.namespace).toBe('data-sales');
    expect(sales.namespaceResource).toBeUndefined();
    expect(sales.node.tryFindChild('Resource')).toBeUndefined();
    expect(manifests.filter((m) => m.kind === 'Namespace')).toEqual([]);
    expect(manifests.map((m) => m.kind)).toContain('Job');
    for (const m of manifests) {
      expect(m.metadata.namespace).toBe('data-sales');
      expect(m.metadata.labels).toMatchObject({ team: 'sales', [DOMAIN_LABEL]: 'sales' });
    }
  });

  test('the namespace floe-<domain> may exist already, e.g. made by the platform team', () => {
    const app = Testing.app();
    const sales = new FloeDomain(app, 'sales', { domain: 'sales', existingNamespace: 'floe-sales' });
    expect(synth(sales).filter((m) => m.kind === 'Namespace')).toEqual([]);
    expect(sales.namespace).toBe('floe-sales');
  });

  test('two domains cannot share one namespace', () => {
    const app = Testing.app();
    new FloeDomain(app, 'sales', { domain: 'sales', existingNamespace: 'data' });
    expect(() => new FloeDomain(app, 'finance', { domain: 'finance', existingNamespace: 'data' })).toThrow(
      /^finance: namespace data of domain "finance" is already the namespace of domain "sales" \(sales\); give each domain its own namespace/,
    );
  });

  test('an existing namespace that another domain creates is refused', () => {
    const app = Testing.app();
    new FloeDomain(app, 'sales', { domain: 'sales' });
    expect(() => new FloeDomain(app, 'finance', { domain: 'finance', existingNamespace: 'floe-sales' })).toThrow(
      /^finance: namespace floe-sales of domain "finance" is already the namespace of domain "sales" \(sales\)/,
    );
  });

  test('environment and existingNamespace together are refused, naming both values and the choice', () => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'D', { domain: 'sales', environment: 'dev', existingNamespace: 'data-sales' })).toThrow(
      /^D: environment "dev" and existingNamespace "data-sales" are both set; keep one: environment for a namespace the domain creates \(floe-<domain>-<environment>\), or existingNamespace for one the platform owns/,
    );
    expect(app.node.tryFindChild('D')).toBeUndefined();
  });

  test.each([
    ['Data-Sales', /is not a DNS-1123 label/],
    ['a'.repeat(64), /is 64 characters long \(at most 63\)/],
    ['default', /is reserved for Kubernetes itself and pods without a namespace/],
    ['kube-system', /is reserved for Kubernetes itself/],
  ])('rejects existingNamespace %j, naming the value and the fix', (existingNamespace, message) => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'Bad', { domain: 'sales', existingNamespace })).toThrow(message);
    expect(() => new FloeDomain(app, 'Bad2', { domain: 'sales', existingNamespace })).toThrow(
      new RegExp(`^Bad2: existingNamespace "${existingNamespace}" .*; give the namespace the platform made for this domain, e.g. "data-sales"$`),
    );
  });
});

describe('FloeDomain bad input', () => {
  test('a second FloeDomain with the same domain in one app is refused, naming both and leaving nothing behind', () => {
    // GIVEN
    const app = Testing.app();
    new FloeDomain(app, 'sales', { domain: 'sales' });

    // WHEN / THEN
    expect(() => new FloeDomain(app, 'sales2', { domain: 'sales' })).toThrow(
      /^sales2: domain "sales" is already declared by sales, and both would write namespace floe-sales; declare each domain once per namespace and pass that FloeDomain \(sales\) to the constructs that need it, or give this one another environment$/,
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
    ['a number as environment', { domain: 'sales', environment: 1 }, /^D: environment must be a string, got number 1; give the environment as a string, e.g. \{ environment: "dev" \}$/],
    ['a list as existingNamespace', { domain: 'sales', existingNamespace: ['data'] }, /^D: existingNamespace must be a string, got .*; give the name of the namespace, e.g. \{ existingNamespace: "data-sales" \}$/],
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
