import { parse } from 'yaml';
import { DbtProfile, FloeSecret, SecretMountedJob, SecretReference } from '../src';
import { domains, find, podSpec, synth } from './util';

function fixture() {
  const { app, domains: [sales, marketing] } = domains('sales', 'marketing');
  const snowflake = FloeSecret.fromSecretName(sales, 'Snowflake', 'snowflake', { keys: ['user', 'password'] });
  const pg = FloeSecret.fromSecretName(sales, 'Pg', 'pg', { keys: ['password'] });
  const user = SecretReference.fromSecret(snowflake, 'user');
  const password = SecretReference.fromSecret(snowflake, 'password', { dbtMasked: true });
  const pgPassword = SecretReference.fromSecret(pg, 'password');
  return { app, sales, marketing, user, password, pgPassword };
}

describe('DbtProfile', () => {
  test('renders credentials as env_var() references, several secrets in one profile', () => {
    // GIVEN
    const { sales, user, password, pgPassword } = fixture();

    // WHEN
    const profile = new DbtProfile(sales, 'Profile', {
      configMapName: 'dbt-profile',
      profileName: 'sales',
      target: 'prod',
      outputs: {
        prod: { type: 'snowflake', account: 'acme', user, password, threads: 4, client_session_keep_alive: false },
        pg: { type: 'postgres', host: 'pg', port: 5432, pass: pgPassword, search_path: ['a', 'b'] },
      },
    });

    // THEN
    const parsed = parse(profile.toYaml());
    expect(parsed).toEqual({
      sales: {
        target: 'prod',
        outputs: {
          prod: {
            type: 'snowflake',
            account: 'acme',
            user: "{{ env_var('FLOE_SECRET_SNOWFLAKE_USER') }}",
            password: "{{ env_var('DBT_ENV_SECRET_FLOE_SECRET_SNOWFLAKE_PASSWORD') }}",
            threads: 4,
            client_session_keep_alive: false,
          },
          pg: { type: 'postgres', host: 'pg', port: 5432, pass: "{{ env_var('FLOE_SECRET_PG_PASSWORD') }}", search_path: ['a', 'b'] },
        },
      },
    });
    expect(profile.requiredEnvVars).toEqual([
      'DBT_ENV_SECRET_FLOE_SECRET_SNOWFLAKE_PASSWORD',
      'FLOE_SECRET_PG_PASSWORD',
      'FLOE_SECRET_SNOWFLAKE_USER',
    ]);
    const cm = find(synth(sales), 'ConfigMap', 'dbt-profile');
    expect(cm.data['profiles.yml']).toBe(profile.toYaml());
    expect(cm.data['profiles.yml']).toMatchSnapshot();
  });

  test('the job mounts the profile and sets DBT_PROFILES_DIR', () => {
    const { sales, user, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { configMapName: 'p', profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', user, password } } });
    new SecretMountedJob(sales, 'Dbt', { name: 'dbt', image: 'dbt:1', secretEnv: [user, password] }).useDbtProfile(profile);
    const pod = podSpec(find(synth(sales), 'Job', 'dbt'));
    expect(pod.volumes).toEqual([{ name: 'dbt-profile-0', configMap: { name: 'p' } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'dbt-profile-0', mountPath: '/etc/dbt', readOnly: true }]);
    expect(pod.containers[0].env).toContainEqual({ name: 'DBT_PROFILES_DIR', value: '/etc/dbt' });
  });

  test('synth fails when the profile reads an env var the job does not wire', () => {
    // GIVEN a profile with two secrets, and a job that wires only one
    const { sales, user, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', user, password } } });
    new SecretMountedJob(sales, 'Dbt', { name: 'dbt', image: 'dbt:1', secretEnv: [user] }).useDbtProfile(profile);

    // THEN
    expect(() => synth(sales)).toThrow(
      /sales\/Dbt: dbt profile sales\/Profile reads env vars this job does not set: DBT_ENV_SECRET_FLOE_SECRET_SNOWFLAKE_PASSWORD; add the matching SecretReference to secretEnv/,
    );
  });

  test('env_var() written by hand counts too, unless it has a default', () => {
    const { sales } = fixture();
    const profile = new DbtProfile(sales, 'Profile', {
      profileName: 'sales',
      target: 'dev',
      outputs: { dev: { type: 'duckdb', path: "{{ env_var('DUCKDB_PATH') }}", schema: "{{ env_var('SCHEMA', 'main') }}" } },
    });
    expect(profile.requiredEnvVars).toEqual(['DUCKDB_PATH']);
    new SecretMountedJob(sales, 'Dbt', { name: 'dbt', image: 'dbt:1' }).useDbtProfile(profile);
    expect(() => synth(sales)).toThrow(/reads env vars this job does not set: DUCKDB_PATH/);
  });

  test('a literal credential is rejected without repeating it', () => {
    const { sales } = fixture();
    const literal = 'hunter2-' + Math.random().toString(36).slice(2);
    let message = '';
    try {
      new DbtProfile(sales, 'Profile', { profileName: 's', target: 'prod', outputs: { prod: { type: 'postgres', nested: { private_key: literal } } } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      'sales/Profile: outputs.prod.nested.private_key is a literal string; credentials must not be written into profiles.yml; pass a SecretReference (SecretReference.fromSecret(secret, key)) so dbt reads it from the env at pod start',
    );
    expect(message).not.toContain(literal);
  });

  test.each([
    [{ target: 'nope' }, /^sales\/Profile: target "nope" is not an output \(outputs: prod\); set target to one of the outputs/],
    [{ outputs: {} }, /^sales\/Profile: outputs is empty/],
    [{ profileName: ' ' }, /^sales\/Profile: profileName is empty/],
    [{ configMapName: 'Bad' }, /^sales\/Profile: configMapName "Bad" is not a DNS-1123 subdomain/],
  ])('rejects %j', (override, message) => {
    const { sales } = fixture();
    expect(() => new DbtProfile(sales, 'Profile', { profileName: 's', target: 'prod', outputs: { prod: { type: 'duckdb' } }, ...override })).toThrow(message);
  });

  test('a profile of another domain cannot be used by a job', () => {
    const { sales, marketing } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { profileName: 's', target: 'prod', outputs: { prod: { type: 'duckdb' } } });
    const job = new SecretMountedJob(marketing, 'Dbt', { image: 'dbt:1' });
    expect(() => job.useDbtProfile(profile)).toThrow(/^marketing\/Dbt: dbt profile sales\/Profile is in domain "sales", not "marketing"; create the profile in the job's domain/);
  });

  test('the profile mount may not overlap a secret mount', () => {
    const { sales } = fixture();
    const tls = FloeSecret.fromSecretName(sales, 'Tls', 'tls', { keys: ['ca.crt'] });
    const profile = new DbtProfile(sales, 'Profile', { profileName: 's', target: 'prod', outputs: { prod: { type: 'duckdb' } } });
    const job = new SecretMountedJob(sales, 'Dbt', { image: 'dbt:1', secretFiles: [{ secret: tls, mountPath: '/etc/dbt/certs' }] });
    expect(() => job.useDbtProfile(profile)).toThrow(/^sales\/Dbt: mount path "\/etc\/dbt" overlaps mount "\/etc\/dbt\/certs"; give each mount its own directory/);
  });
});
