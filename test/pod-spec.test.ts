import { checkFileMode, secretEnvFromSpec, secretEnvSpec, secretMountsSpec, SecretReference, secretVolumeName } from '../src';

describe('pod-spec fragments', () => {
  test('secretEnvFromSpec is the generate_pod_env_spec shape of seed 001', () => {
    expect(secretEnvFromSpec('db-creds')).toEqual({ envFrom: [{ secretRef: { name: 'db-creds' } }] });
  });

  test('secretEnvSpec names env vars after the references, or after record keys', () => {
    const password = SecretReference.fromNames('db-creds', 'password');
    expect(secretEnvSpec([password])).toEqual({
      env: [{ name: 'FLOE_SECRET_DB_CREDS_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }],
    });
    expect(secretEnvSpec({ DATABASE_PASSWORD: password })).toEqual({
      env: [{ name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }],
    });
  });

  test('two references mapping to one env var name are an error', () => {
    const a = SecretReference.fromNames('db-creds', 'pass-word');
    const b = SecretReference.fromNames('db-creds', 'pass_word');
    expect(() => secretEnvSpec([a, b])).toThrow(
      'references: db-creds/pass-word and db-creds/pass_word both map to env var "FLOE_SECRET_DB_CREDS_PASS_WORD"; give one of them an explicit env var name',
    );
  });

  test('secretMountsSpec mounts the whole directory read-only at /run/secrets/<name>, never subPath', () => {
    const spec = secretMountsSpec('google-sa', { keys: ['key.json'] });
    expect(spec).toEqual({
      volumes: [{ name: 'secret-google-sa', secret: { secretName: 'google-sa', defaultMode: 0o400, items: [{ key: 'key.json', path: 'key.json' }] } }],
      volumeMounts: [{ name: 'secret-google-sa', mountPath: '/run/secrets/google-sa', readOnly: true }],
    });
    expect(JSON.stringify(spec)).not.toContain('subPath');
  });

  test('secretMountsSpec without keys projects every key, several files per secret', () => {
    expect(secretMountsSpec('tls', { mode: 0o440, mountPath: '/etc/tls' })).toEqual({
      volumes: [{ name: 'secret-tls', secret: { secretName: 'tls', defaultMode: 0o440 } }],
      volumeMounts: [{ name: 'secret-tls', mountPath: '/etc/tls', readOnly: true }],
    });
  });

  test.each([
    [{ mode: 0o644 }, /^mode: 0644 gives other users access to secret files; clear the last octal digit, e.g. 0640/],
    [{ mode: 0o1000 }, /^mode: 512 is not a file mode \(an integer from 0 to 0o777\)/],
    [{ mode: -1 }, /^mode: -1 is not a file mode/],
    [{ mode: 1.5 }, /^mode: 1.5 is not a file mode/],
    [{ mountPath: 'run/secrets/x' }, /^mountPath: "run\/secrets\/x" is not a normalized absolute directory/],
    [{ mountPath: '/run/secrets/../etc' }, /is not a normalized absolute directory/],
    [{ mountPath: '/run/secrets/x/' }, /is not a normalized absolute directory/],
    [{ mountPath: '/' }, /is not a normalized absolute directory/],
    [{ mountPath: '/run/secrets/kubernetes.io' }, /overlaps \/run\/secrets\/kubernetes.io, where Kubernetes mounts the ServiceAccount token/],
    [{ mountPath: '/var/run/secrets' }, /overlaps \/var\/run\/secrets\/kubernetes.io/],
    [{ keys: [] }, /^keys: is empty; omit keys to mount every key/],
    [{ keys: ['a/b'] }, /^keys: "a\/b" may only hold/],
  ])('secretMountsSpec rejects %j', (options, message) => {
    expect(() => secretMountsSpec('x', options)).toThrow(message);
  });

  test('rejects invalid secret names', () => {
    expect(() => secretEnvFromSpec('Bad')).toThrow(/^secretName: "Bad" is not a DNS-1123 subdomain/);
    expect(() => secretMountsSpec('Bad')).toThrow(/^secretName: "Bad"/);
  });

  test('checkFileMode accepts owner and group bits', () => {
    for (const mode of [0, 0o400, 0o440, 0o600, 0o640, 0o770]) expect(() => checkFileMode('m', mode)).not.toThrow();
  });

  test('volume names are DNS labels, shortened with a stable hash', () => {
    expect(secretVolumeName('a.b')).toBe('secret-a-b');
    const long = secretVolumeName(`${'x'.repeat(100)}.example.com`);
    expect(long).toMatch(/^secret-x+-[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(secretVolumeName(`${'x'.repeat(100)}.example.com`)).toBe(long);
    expect(secretVolumeName(`${'x'.repeat(100)}.example.org`)).not.toBe(long);
  });
});
