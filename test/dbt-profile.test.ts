import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { DbtProfile, DbtProfileProps, DbtValue, FloeSecret, SecretMountedJob, SecretReference } from '../src';
import { domains, find, podSpec, randomValue, synth } from './util';

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

  test('the job mounts the profile, sets DBT_PROFILES_DIR, and gives dbt a writable /work for target/ and logs/', () => {
    const { sales, user, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { configMapName: 'p', profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', user, password } } });
    new SecretMountedJob(sales, 'Dbt', { name: 'dbt', image: 'dbt:1', secretEnv: [user, password] }).useDbtProfile(profile);
    const pod = podSpec(find(synth(sales), 'Job', 'dbt'));
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'dbt-profile-0', configMap: { name: 'p' } },
      { name: 'dbt-output-0', emptyDir: {} },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'dbt-profile-0', mountPath: '/etc/dbt', readOnly: true },
      { name: 'dbt-output-0', mountPath: '/work' },
    ]);
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([
      { name: 'DBT_PROFILES_DIR', value: '/etc/dbt' },
      { name: 'DBT_TARGET_PATH', value: '/work/target' },
      { name: 'DBT_LOG_PATH', value: '/work/logs' },
    ]));
    expect(pod.containers[0].workingDir).toBeUndefined();
  });

  test('dbt writes into the job\'s writable workingDir when it has one, or into the outputDir given', () => {
    const { sales, user, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { configMapName: 'p', profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', user, password } } });
    new SecretMountedJob(sales, 'A', { name: 'a', image: 'dbt:1', workingDir: '/usr/app/out', secretEnv: [user, password] }).useDbtProfile(profile);
    new SecretMountedJob(sales, 'B', { name: 'b', image: 'dbt:1', secretEnv: [user, password] }).useDbtProfile(profile, { outputDir: '/scratch' });
    const manifests = synth(sales);
    const a = podSpec(find(manifests, 'Job', 'a'));
    expect(a.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name)).toEqual(['tmp', 'workdir']);
    expect(a.containers[0].env).toContainEqual({ name: 'DBT_TARGET_PATH', value: '/usr/app/out/target' });
    const b = podSpec(find(manifests, 'Job', 'b'));
    expect(b.containers[0].volumeMounts).toContainEqual({ name: 'dbt-output-0', mountPath: '/scratch' });
    expect(b.containers[0].env).toContainEqual({ name: 'DBT_LOG_PATH', value: '/scratch/logs' });
  });

  test('an outputDir that overlaps another mount is refused', () => {
    const { sales, user, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { configMapName: 'p', profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', user, password } } });
    const job = new SecretMountedJob(sales, 'Dbt', { name: 'dbt', image: 'dbt:1', secretEnv: [user, password] });
    expect(() => job.useDbtProfile(profile, { outputDir: '/tmp/dbt' })).toThrow('sales/Dbt: mount path "/tmp/dbt" overlaps mount "/tmp"; give each mount its own directory');

    // Nothing of the failed call is left: the profile's volume and env vars are not in the Job, and
    // the same profile mounts cleanly afterwards.
    const refused = podSpec(find(synth(sales), 'Job', 'dbt'));
    expect(refused.volumes.map((v: { name: string }) => v.name)).toEqual(['tmp']);
    expect(refused.containers[0].env.map((e: { name: string }) => e.name)).not.toContain('DBT_PROFILES_DIR');
    job.useDbtProfile(profile);
    const mounted = podSpec(find(synth(sales), 'Job', 'dbt'));
    expect(mounted.volumes.map((v: { name: string }) => v.name)).toEqual(['tmp', 'dbt-profile-0', 'dbt-output-0']);
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
      'sales/Profile: profile "s", target "prod": field nested.private_key is a literal string, and credentials must not be written into profiles.yml; ' +
        'pass a SecretReference (SecretReference.fromSecret(secret, key)), rendered as {{ env_var(\'...\') }} and read by dbt from the pod\'s env at start',
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

/** Sets `value` at a dotted path with [i] list indexes in a deep copy of `output`. */
function withField(output: { [field: string]: DbtValue }, path: string, value: DbtValue): { [field: string]: DbtValue } {
  const copy = structuredClone(output) as any;
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at = copy;
  for (const part of parts.slice(0, -1)) at = at[part] ??= {};
  at[parts[parts.length - 1]] = value;
  return copy;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Random stand-ins for a literal credential, of every shape a user could write. */
function literals(): Array<[string, DbtValue, string]> {
  const value = randomValue();
  const number = randomBytes(4).readUInt32BE() + 100000;
  return [
    ['a literal string', value, value],
    ['a literal number', number, String(number)],
    ['env_var() with a literal default', `{{ env_var('PG_PASSWORD', '${value}') }}`, value],
    ['env_var() with a keyword default', `{{ env_var("PG_PASSWORD", default="${value}") }}`, value],
    ['a Jinja string literal', `{{ '${value}' }}`, value],
    ['env_var() followed by a literal', `{{ env_var('PG_PASSWORD') }}${value}`, value],
    ['a multi-line private key', `-----BEGIN PRIVATE KEY-----\n${value}\n-----END PRIVATE KEY-----\n`, value],
  ];
}

// The credential fields of each adapter (dbt's profile docs), in an output that is otherwise valid.
const ADAPTERS: Array<[string, { [field: string]: DbtValue }, string[]]> = [
  ['snowflake', { type: 'snowflake', account: 'acme', user: 'loader', database: 'D', schema: 'S' },
    ['password', 'private_key', 'private_key_passphrase', 'private_key_path', 'token', 'oauth_client_secret', 'PASSWORD']],
  ['bigquery', { type: 'bigquery', method: 'service-account-json', project: 'p', dataset: 'd', keyfile_json: { type: 'service_account', token_uri: 'https://oauth2.googleapis.com/token' } },
    ['keyfile', 'keyfile_json.private_key', 'keyfile_json.private_key_id', 'refresh_token', 'client_secret', 'token']],
  ['postgres', { type: 'postgres', host: 'db', port: 5432, user: 'u', dbname: 'd', schema: 's' }, ['password', 'pass', 'Pass']],
  ['redshift', { type: 'redshift', host: 'rs', port: 5439, user: 'u', dbname: 'd', schema: 's' }, ['password', 'pass', 'access_key_id', 'secret_access_key']],
  ['databricks', { type: 'databricks', host: 'x.cloud.databricks.com', http_path: '/sql/1.0/warehouses/abc', schema: 's' }, ['token', 'client_secret', 'azure_client_secret']],
  ['duckdb', { type: 'duckdb', path: '/data/dbt.duckdb', settings: { s3_region: 'eu-west-1' }, secrets: [{ type: 's3', region: 'eu-west-1' }] },
    ['settings.s3_access_key_id', 'settings.s3_secret_access_key', 'settings.s3_session_token', 'settings.motherduck_token',
      'secrets[0].key_id', 'secrets[0].secret', 'secrets[0].session_token', 'secrets[0].password', 'secrets[0].connection_string']],
];

describe('DbtProfile credentials are env_var() references only', () => {
  const cases = ADAPTERS.flatMap(([adapter, output, fields]) => fields.map((field) => [adapter, field, output] as const));

  test.each(cases)('%s: %s refuses every literal form, naming the profile, target, field and fix, never the value', (_adapter, field, output) => {
    for (let round = 0; round < 5; round++) {
      for (const [form, value, secret] of literals()) {
        // GIVEN
        const { sales } = fixture();
        const props: DbtProfileProps = { profileName: 'sales', target: 'prod', outputs: { prod: withField(output, field, value) } };

        // WHEN
        let error: Error | undefined;
        try {
          new DbtProfile(sales, 'Profile', props);
        } catch (e) {
          error = e as Error;
        }

        // THEN
        expect(error).toBeDefined();
        const message = error!.message;
        expect(`${form}: ${message}`).toMatch(new RegExp(`^${escape(form)}: sales/Profile: profile "sales", target "prod": field ${escape(field)} `));
        expect(message).toMatch(/; (pass a SecretReference|remove the default)/);
        for (const channel of [message, error!.stack ?? '', String(error), JSON.stringify(error)]) {
          expect(channel).not.toContain(secret);
        }
        expect(sales.node.tryFindChild('Profile')).toBeUndefined();
      }
    }
  });

  test.each(cases)('%s: %s accepts a SecretReference and a hand-written env_var() without default', (_adapter, field, output) => {
    const { sales, password } = fixture();
    const profile = new DbtProfile(sales, 'Profile', { profileName: 'sales', target: 'prod', outputs: { prod: withField(output, field, password) } });
    expect(profile.requiredEnvVars).toEqual(['DBT_ENV_SECRET_FLOE_SECRET_SNOWFLAKE_PASSWORD']);
    const handWritten = new DbtProfile(sales, 'Profile2', { profileName: 'sales', target: 'prod', outputs: { prod: withField(output, field, "{{ env_var('MY_TOKEN') }}") } });
    expect(handWritten.requiredEnvVars).toEqual(['MY_TOKEN']);
  });

  test('a file field accepts the absolute path of a mounted secret file', () => {
    const { sales } = fixture();
    const profile = new DbtProfile(sales, 'Profile', {
      profileName: 'sales',
      target: 'prod',
      outputs: { prod: { type: 'bigquery', method: 'service-account', keyfile: '/run/secrets/google-sa/key.json', project: 'p', dataset: 'd' } },
    });
    expect(parse(profile.toYaml()).sales.outputs.prod.keyfile).toBe('/run/secrets/google-sa/key.json');
    expect(() => new DbtProfile(sales, 'P2', { profileName: 's', target: 't', outputs: { t: { type: 'snowflake', private_key_path: '/run/secrets/../etc/key.p8' } } }))
      .toThrow(/field private_key_path is a literal string that is not an absolute file path.*or mount the file with secretFiles and give its path/);
  });

  test('a default is fine in a plain field, but not for an env var whose name says it is a credential', () => {
    const { sales } = fixture();
    const value = randomValue();
    expect(() => new DbtProfile(sales, 'Ok', { profileName: 's', target: 't', outputs: { t: { type: 'duckdb', schema: "{{ env_var('SCHEMA', 'main') }}", threads: 4 } } })).not.toThrow();
    for (const name of ['DB_PASSWORD', 'FLOE_SECRET_PG_PASSWORD', 'DBT_ENV_SECRET_X', 'API_TOKEN']) {
      let message = '';
      try {
        new DbtProfile(sales, 'Bad', { profileName: 's', target: 't', outputs: { t: { type: 'postgres', host: `{{ env_var('${name}', '${value}') }}` } } });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toBe(
        `sales/Bad: profile "s", target "t": field host reads env var ${name}, whose name says it is a credential, with a default, and the default is written into profiles.yml in clear; ` +
          `remove the default ({{ env_var('${name}') }}) and set ${name} in the job, e.g. with a SecretReference in secretEnv`,
      );
      expect(message).not.toContain(value);
    }
  });

  test.each([
    ['a libpq connection string', (v: string) => `host=pg dbname=d user=u password=${v}`],
    ['a URL with a password', (v: string) => `postgres://loader:${v}@pg:5432/d`],
    ['a MotherDuck token in the path', (v: string) => `md:sales?motherduck_token=${v}`],
  ])('a plain field may not hold %s', (_, make) => {
    const { sales } = fixture();
    const value = randomValue();
    let message = '';
    try {
      new DbtProfile(sales, 'Profile', { profileName: 's', target: 't', outputs: { t: { type: 'duckdb', attach: [{ path: make(value), alias: 'pg' }] } } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^sales\/Profile: profile "s", target "t": field attach\[0\]\.path holds a literal password or token inside a connection string or URL; write that part as \{\{ env_var\('NAME'\) \}\}/);
    expect(message).not.toContain(value);
    // The same string with the credential as an env_var() reference is fine.
    expect(() => new DbtProfile(sales, 'Ok', { profileName: 's', target: 't', outputs: { t: { type: 'duckdb', attach: [{ path: make("{{ env_var('PG_PASSWORD') }}") }] } } })).not.toThrow();
  });

  test('fields that only look like credentials stay plain: token_uri, authenticator, client_session_keep_alive', () => {
    const { sales } = fixture();
    expect(() => new DbtProfile(sales, 'Profile', {
      profileName: 's',
      target: 't',
      outputs: { t: { type: 'snowflake', authenticator: 'username_password_mfa', client_session_keep_alive: true, client_store_temporary_credential: true, keyfile_json: { token_uri: 'https://oauth2.googleapis.com/token' } } },
    })).not.toThrow();
  });

  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/Profile: props must be an object, got undefined/],
    ['no outputs', { profileName: 's', target: 't' }, /^sales\/Profile: outputs is missing \(expected an object\)/],
    ['a number as target', { profileName: 's', target: 1, outputs: { t: {} } }, /^sales\/Profile: target must be a string, got number 1/],
    ['an output that is a string', { profileName: 's', target: 't', outputs: { t: 'x' } }, /^sales\/Profile: profile "s", target "t": the output must be a map of fields, got a string/],
  ])('untyped JavaScript input: %s is a clear error', (_, props, message) => {
    const { sales } = fixture();
    expect(() => new DbtProfile(sales, 'Profile', props as any)).toThrow(message);
  });
});
