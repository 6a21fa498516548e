import { ApiObject } from 'cdk8s';
import { FloeSecret, FloeServiceAccount, SecretReadRole } from '../src';
import { domains, find, synth } from './util';

describe('SecretReadRole', () => {
  test('allowGet is idempotent and returns the role; secretNames is a sorted copy', () => {
    const { domains: [sales] } = domains('sales');
    const a = FloeSecret.fromSecretName(sales, 'A', 'zeta', { keys: ['k'] });
    const b = FloeSecret.fromSecretName(sales, 'B', 'alpha', { keys: ['k'] });
    const role = new FloeServiceAccount(sales, 'Sa', { serviceAccountName: 'sa' }).secretReadRole();
    expect(role.allowGet(a, b, a)).toBe(role);
    expect(role.secretNames).toEqual(['alpha', 'zeta']);
    role.secretNames.pop();
    expect(role.secretNames).toEqual(['alpha', 'zeta']);
  });

  test('the L1 Role is the escape hatch under id Resource', () => {
    const { domains: [sales] } = domains('sales');
    const role = new FloeServiceAccount(sales, 'Sa', { serviceAccountName: 'sa' }).secretReadRole();
    expect(ApiObject.of(role)).toBe(role.role);
  });

  test('a role that grants nothing fails synth rather than emit resourceNames: []', () => {
    const { domains: [sales] } = domains('sales');
    new FloeServiceAccount(sales, 'Sa', { serviceAccountName: 'sa' }).secretReadRole();
    expect(() => synth(sales)).toThrow(/Role "sa-secret-reader" grants no Secret, and an empty resourceNames would grant every Secret/);
  });

  test('imported service accounts can be granted secrets of their domain', () => {
    const { domains: [sales] } = domains('sales');
    const secret = FloeSecret.fromSecretName(sales, 'A', 'db', { keys: ['k'] });
    const sa = FloeServiceAccount.fromServiceAccountName(sales, 'Existing', 'airflow-worker');
    secret.grantRead(sa);
    const manifests = synth(sales);
    expect(manifests.filter((m) => m.kind === 'ServiceAccount')).toEqual([]);
    expect(find(manifests, 'RoleBinding', 'airflow-worker-secret-reader').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'airflow-worker', namespace: 'floe-sales' },
    ]);
  });

  test('two different secret constructs with one name cannot be granted to one reader', () => {
    // Only possible across domains, which the domain check already refuses, or through a
    // misbehaving IFloeSecret; the role still refuses to merge them silently.
    const { domains: [sales] } = domains('sales');
    const a = FloeSecret.fromSecretName(sales, 'A', 'db', { keys: ['k'] });
    const impostor = Object.assign(Object.create(a), { node: { path: 'sales/Impostor' } });
    const role = new FloeServiceAccount(sales, 'Sa', { serviceAccountName: 'sa' }).secretReadRole();
    role.allowGet(a);
    expect(() => role.allowGet(impostor)).toThrow(/two different secret constructs are named "db": sales\/A and sales\/Impostor/);
  });
});

describe('FloeServiceAccount', () => {
  test('turns token automount off unless asked', () => {
    const { domains: [sales] } = domains('sales');
    new FloeServiceAccount(sales, 'Off', { serviceAccountName: 'off' });
    new FloeServiceAccount(sales, 'On', { serviceAccountName: 'on', automountToken: true });
    const manifests = synth(sales);
    expect(find(manifests, 'ServiceAccount', 'off').automountServiceAccountToken).toBe(false);
    expect(find(manifests, 'ServiceAccount', 'on').automountServiceAccountToken).toBe(true);
  });

  test('rejects invalid names, including for imports', () => {
    const { domains: [sales] } = domains('sales');
    expect(() => new FloeServiceAccount(sales, 'Bad', { serviceAccountName: 'Bad Name' })).toThrow(/^sales\/Bad: service account name "Bad Name" is not a DNS-1123 subdomain/);
    expect(() => FloeServiceAccount.fromServiceAccountName(sales, 'Bad2', 'x_y')).toThrow(/^sales\/Bad2: service account name "x_y"/);
  });
});

describe('SecretReadRole untyped JavaScript input', () => {
  test('a role without a reader, or a grant of something that is not a secret, is a clear error', () => {
    const { domains: [sales] } = domains('sales');
    expect(() => new SecretReadRole(sales, 'Role', {} as any)).toThrow(/^sales\/Role: reader must be an ISecretReader \(a FloeServiceAccount\), got undefined/);
    const sa = new FloeServiceAccount(sales, 'Sa', { serviceAccountName: 'sa' });
    expect(() => sa.secretReadRole().allowGet('db-creds' as any)).toThrow(/^sales\/Sa\/SecretReadRole: a secret to allow must be a declared secret \(an IFloeSecret\), got a string/);
    expect(() => new FloeServiceAccount(sales, 'Sa2', { automountToken: 'yes' as any })).toThrow(/^sales\/Sa2: automountToken must be true or false, got a string/);
  });
});
