import { FloeSecret, FloeServiceAccount } from '../src';
import { domains, find, synth } from './util';

describe('FloeSecret', () => {
  test('fromSecretName declares an external Secret and synthesizes no Secret object', () => {
    // GIVEN
    const { domains: [sales] } = domains('sales');

    // WHEN
    const secret = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });

    // THEN
    expect(secret.secretName).toBe('db-creds');
    expect(secret.keys).toEqual(['password', 'user']);
    expect(secret.managedBy).toBe('external');
    expect(secret.domain).toBe(sales);
    expect(secret.hasKey('password')).toBe(true);
    expect(secret.hasKey('pass')).toBe(false);
    expect(synth(sales).filter((m) => m.kind === 'Secret')).toEqual([]);
  });

  test('keys returns a copy', () => {
    const { domains: [sales] } = domains('sales');
    const secret = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['password'] });
    secret.keys.push('injected');
    expect(secret.keys).toEqual(['password']);
  });

  test('a secret declared by a source records it as managedBy and gets a derived name', () => {
    const { domains: [sales] } = domains('sales');
    const source = { kind: 'infisical', source: 'sales/InfisicalSource', refreshInterval: '60s', restartsWorkloads: true } as const;
    const secret = new FloeSecret(sales, 'Managed', { keys: ['token'], source });
    expect(secret.managedBy).toBe('sales/InfisicalSource');
    expect(secret.source).toBe(source);
    expect(secret.secretName).toMatch(/^sales-managed-[0-9a-f]{8}$/);
  });

  test('grantRead gives a Role with get on exactly the granted secrets and binds it to the reader', () => {
    // GIVEN
    const { domains: [sales] } = domains('sales');
    const a = FloeSecret.fromSecretName(sales, 'A', 'a-creds', { keys: ['k'] });
    const b = FloeSecret.fromSecretName(sales, 'B', 'b-creds', { keys: ['k'] });
    FloeSecret.fromSecretName(sales, 'C', 'c-creds', { keys: ['k'] });
    const sa = new FloeServiceAccount(sales, 'Reader', { serviceAccountName: 'reader' });

    // WHEN
    const [binding] = b.grantRead(sa);
    a.grantRead(sa);

    // THEN
    const manifests = synth(sales);
    const role = find(manifests, 'Role', 'reader-secret-reader');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['a-creds', 'b-creds'] }]);
    const rb = find(manifests, 'RoleBinding', 'reader-secret-reader');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader-secret-reader' });
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'reader', namespace: 'floe-sales' }]);
    expect(binding).toBe(sa.secretReadRole().binding);
    expect(manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });

  test('granting the same reader twice is idempotent', () => {
    const { domains: [sales] } = domains('sales');
    const a = FloeSecret.fromSecretName(sales, 'A', 'a-creds', { keys: ['k'] });
    const sa = new FloeServiceAccount(sales, 'Reader', { serviceAccountName: 'reader' });
    const first = a.grantRead(sa);
    const second = a.grantRead(sa, sa);
    expect(second).toEqual([first[0], first[0]]);
    const manifests = synth(sales);
    expect(manifests.filter((m) => m.kind === 'Role')).toHaveLength(1);
    expect(find(manifests, 'Role', 'reader-secret-reader').rules[0].resourceNames).toEqual(['a-creds']);
  });

  test('grantRead to a reader of another domain fails naming both domains (REQ-139)', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    const secret = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['k'] });
    const sa = new FloeServiceAccount(marketing, 'Reader');
    expect(() => secret.grantRead(sa)).toThrow(
      /^marketing\/Reader: secret "db-creds" belongs to domain "sales" \(namespace floe-sales\), but this construct is in domain "marketing" \(namespace floe-marketing\); a workload may only read secrets of its own domain; declare the secret in domain "marketing", or move the workload to domain "sales"$/,
    );
  });

  test('two secret constructs with one name in a domain are an error', () => {
    const { domains: [sales] } = domains('sales');
    FloeSecret.fromSecretName(sales, 'A', 'db-creds', { keys: ['k'] });
    expect(() => FloeSecret.fromSecretName(sales, 'B', 'db-creds', { keys: ['k'] })).toThrow(
      /^sales\/B: Secret name "db-creds" is already used in namespace floe-sales by sales\/A; give one of them another name$/,
    );
  });

  test('the same secret name in two domains is fine', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    FloeSecret.fromSecretName(sales, 'A', 'db-creds', { keys: ['k'] });
    expect(() => FloeSecret.fromSecretName(marketing, 'A', 'db-creds', { keys: ['k'] })).not.toThrow();
  });

  test.each([
    ['Db_Creds', /secret name "Db_Creds" is not a DNS-1123 subdomain.*; use a name such as "db-creds"/],
    ['', /secret name "" is empty/],
    ['a'.repeat(254), /254 characters long \(at most 253\)/],
  ])('rejects secret name %j', (name, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => FloeSecret.fromSecretName(sales, 'Bad', name, { keys: ['k'] })).toThrow(message);
    expect(sales.node.tryFindChild('Bad')).toBeUndefined();
  });

  test.each([
    ['pass word', /key "pass word" may only hold letters, digits/],
    ['..hidden', /key "..hidden" may not be "." or ".."/],
    ['', /key "" is empty/],
  ])('rejects key %j', (key, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => FloeSecret.fromSecretName(sales, 'Bad', 'db', { keys: [key] })).toThrow(message);
  });

  test('rejects an empty key list', () => {
    const { domains: [sales] } = domains('sales');
    expect(() => FloeSecret.fromSecretName(sales, 'Bad', 'db', { keys: [] })).toThrow(/^sales\/Bad: keys is empty; list the keys/);
  });

  test('a secret outside a domain is an error', () => {
    const { app } = domains();
    expect(() => FloeSecret.fromSecretName(app, 'Stray', 'db', { keys: ['k'] })).toThrow(/^Stray: is not inside a FloeDomain/);
  });
});

describe('FloeSecret untyped JavaScript input', () => {
  test.each<[string, () => unknown, RegExp]>([
    ['keys as a string', () => FloeSecret.fromSecretName(domains('sales').domains[0], 'Db', 'db-creds', { keys: 'password' as any }), /^sales\/Db: keys must be a list, got a string; list the keys/],
    ['no options', () => FloeSecret.fromSecretName(domains('sales').domains[0], 'Db', 'db-creds', undefined as any), /^sales\/Db: props must be an object, got undefined/],
    ['no name', () => FloeSecret.fromSecretName(domains('sales').domains[0], 'Db', undefined as any, { keys: ['k'] }), /^sales\/Db: secret name is missing \(expected a string\)/],
    ['no props', () => new FloeSecret(domains('sales').domains[0], 'Db', undefined as any), /^sales\/Db: props must be an object, got undefined/],
    ['a number as key', () => new FloeSecret(domains('sales').domains[0], 'Db', { keys: [1] as any }), /^sales\/Db: keys\[0\] must be a string, got number 1/],
  ])('%s is a clear error, not a TypeError', (_what, make, message) => {
    expect(make).toThrow(message);
  });
});
