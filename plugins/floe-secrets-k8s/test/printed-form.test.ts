import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { printedForms } from '../../../test/leak-values';
import { K8sSecretsPlugin } from '../src';

// The plugin holds a kubeconfig with a bearer token, a client certificate and key, or a user name
// and password. No public object may print any of them, in any form: String, JSON, util.inspect at
// any depth (hidden properties too, custom inspection on or off), and the same for every object
// reachable from the plugin's properties and getters.

let dir: string;
let kubeconfig: string;
let credentials: string[];

const random = (): string => randomBytes(24).toString('base64url');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'floe-k8s-printed-'));
  const token = random();
  const certBody = randomBytes(48).toString('base64');
  const keyBody = randomBytes(48).toString('base64');
  const cert = `-----BEGIN CERTIFICATE-----\n${certBody}\n-----END CERTIFICATE-----\n`;
  const key = `-----BEGIN PRIVATE KEY-----\n${keyBody}\n-----END PRIVATE KEY-----\n`;
  const username = `user-${random()}`;
  const password = random();
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  // Every form a credential could be printed in: as given, base64 (how kubeconfig holds certificate
  // data), and the Basic authorization header value.
  credentials = [
    token, b64(token),
    certBody, b64(cert), keyBody, b64(key),
    username, password, b64(password), b64(`${username}:${password}`),
  ];
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'clusters': [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
    'users': [
      { name: 'bearer', user: { token } },
      { name: 'certificate', user: { 'client-certificate-data': b64(cert), 'client-key-data': b64(key) } },
      { name: 'basic', user: { username, password } },
    ],
    'contexts': [
      { name: 'bearer', context: { cluster: 'c', user: 'bearer' } },
      { name: 'certificate', context: { cluster: 'c', user: 'certificate' } },
      { name: 'basic', context: { cluster: 'c', user: 'basic' } },
    ],
    'current-context': 'bearer',
  }), { mode: 0o600 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the K8s plugin never prints a credential', () => {
  test.each(['bearer', 'certificate', 'basic'])('kubeconfig user with %s credentials: String, JSON and deep inspect hold none of them', (context) => {
    // GIVEN a plugin on a kubeconfig user with random credentials
    const plugin = new K8sSecretsPlugin({ namespace: 'floe-jobs', kubeconfig, context });

    // WHEN it is printed in every way, with everything reachable from it
    const printed = printedForms(plugin);

    // THEN no credential appears, in plain or base64 form
    for (const credential of credentials) expect(printed).not.toContain(credential);
  });

  test('the printed form says the safe facts: server, namespace and the kind of credential', () => {
    const forms = ['bearer', 'certificate', 'basic'].map((context) => new K8sSecretsPlugin({ namespace: 'floe-jobs', kubeconfig, context }));
    expect(forms.map((plugin) => JSON.parse(JSON.stringify(plugin)))).toEqual([
      { plugin: 'k8s', server: 'https://127.0.0.1:6443', namespace: 'floe-jobs', user: 'bearer', auth: 'bearer token' },
      { plugin: 'k8s', server: 'https://127.0.0.1:6443', namespace: 'floe-jobs', user: 'certificate', auth: 'client certificate' },
      { plugin: 'k8s', server: 'https://127.0.0.1:6443', namespace: 'floe-jobs', user: 'basic', auth: 'basic' },
    ]);
    expect(inspect(forms[0])).toBe('K8sSecretsPlugin { server: \'https://127.0.0.1:6443\', namespace: \'floe-jobs\', user: \'bearer\', auth: \'bearer token\' }');
    expect(String(forms[0])).toBe('K8sSecretsPlugin(https://127.0.0.1:6443, namespace floe-jobs, bearer token)');
  });
});
