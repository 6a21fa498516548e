import { FloeSecret, SecretReference } from '../src';
import { domains } from './util';

describe('SecretReference', () => {
  test('maps (secret, key) to FLOE_SECRET_<SECRET>_<KEY> and the dbt env_var syntax of seed 001', () => {
    const ref = SecretReference.fromNames('db-creds', 'password');
    expect(ref.envVarName).toBe('FLOE_SECRET_DB_CREDS_PASSWORD');
    expect(ref.toEnvVarSyntax()).toBe("{{ env_var('FLOE_SECRET_DB_CREDS_PASSWORD') }}");
    expect(ref.toString()).toBe('db-creds/password');
  });

  test('every character other than a letter or digit becomes _', () => {
    expect(SecretReference.fromNames('google.sa-1', 'key.json').envVarName).toBe('FLOE_SECRET_GOOGLE_SA_1_KEY_JSON');
  });

  test('dbtMasked adds dbt\'s DBT_ENV_SECRET_ prefix', () => {
    const ref = SecretReference.fromNames('db-creds', 'password', { dbtMasked: true });
    expect(ref.dbtMasked).toBe(true);
    expect(ref.envVarName).toBe('DBT_ENV_SECRET_FLOE_SECRET_DB_CREDS_PASSWORD');
    expect(ref.toEnvVarSyntax()).toBe("{{ env_var('DBT_ENV_SECRET_FLOE_SECRET_DB_CREDS_PASSWORD') }}");
  });

  test('toEnvVar gives a secretKeyRef entry, optionally renamed', () => {
    const ref = SecretReference.fromNames('db-creds', 'password');
    expect(ref.toEnvVar()).toEqual({
      name: 'FLOE_SECRET_DB_CREDS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } },
    });
    expect(ref.toEnvVar('PGPASSWORD').name).toBe('PGPASSWORD');
  });

  test('fromSecret keeps the secret and checks the key is declared', () => {
    const { domains: [sales] } = domains('sales');
    const secret = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
    expect(SecretReference.fromSecret(secret, 'user').secret).toBe(secret);
    expect(() => SecretReference.fromSecret(secret, 'pasword')).toThrow(
      'SecretReference(sales/Db): key "pasword" is not declared on secret "db-creds" (declared: password, user); use one of the declared keys, or add "pasword" to the keys of sales/Db',
    );
  });

  test.each([
    ['DB', 'password', /^secretName: "DB" is not a DNS-1123 subdomain/],
    ['db', 'pass word', /^key: "pass word" may only hold letters/],
  ])('fromNames(%j, %j) is rejected', (name, key, message) => {
    expect(() => SecretReference.fromNames(name, key)).toThrow(message);
  });
});

describe('SecretReference untyped JavaScript input', () => {
  test('a secret name instead of a declared secret, or a missing key, is a clear error', () => {
    expect(() => SecretReference.fromSecret('db-creds' as any, 'password')).toThrow(/^SecretReference.fromSecret: secret must be a declared secret \(an IFloeSecret\), got a string/);
    const db = FloeSecret.fromSecretName(domains('sales').domains[0], 'Db', 'db-creds', { keys: ['password'] });
    expect(() => SecretReference.fromSecret(db, undefined as any)).toThrow(/^SecretReference.fromSecret: key is missing \(expected a string\)/);
    expect(() => SecretReference.fromNames('db-creds', 5 as any)).toThrow(/^SecretReference.fromNames: key must be a string, got number 5/);
  });
});
