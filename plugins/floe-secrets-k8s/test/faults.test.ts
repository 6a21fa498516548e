import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConnectionError, NotImplementedError, PermissionError, RetryPolicy, SecretsConfigError } from '@floe-secrets/core';
import { Fault, FaultServer, json, status, writeKubeconfig } from '../../floe-secrets-core/test/fault-server';
import { K8sSecretsPlugin } from '../src';

// The K8s plugin against a local https server that misbehaves as a proxy, a wrong address or a
// struggling apiserver would. For each fault and each operation: only the four error classes
// escape, within the configured time budget; health answers within 5 s and never throws; no
// message, stack or cause holds the token or the value; nothing is sent to a redirect's host.

const RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, totalTimeoutMs: 2_000, attemptTimeoutMs: 700 };
/** Slack for timers and the event loop on a busy machine. */
const SLACK_MS = 700;
const HEALTH_LIMIT_MS = 5_000;
const FOUR = [ConnectionError, PermissionError, SecretsConfigError, NotImplementedError];

const random = (): string => randomBytes(18).toString('base64url');

let dir: string;
let server: FaultServer;
/** Where the fault server redirects to: must never receive anything. */
let elsewhere: FaultServer;
let token: string;
let value: string;
/** A path and query on the redirect's host: must never appear in a message. */
let redirectPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-k8s-faults-'));
  server = await FaultServer.start({ tls: true });
  elsewhere = await FaultServer.start({ tls: true, fault: json(200, { kind: 'Secret', data: {} }) });
});

afterAll(async () => {
  await server?.close();
  await elsewhere?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  token = random();
  value = random();
  redirectPath = `/landing-${random()}?next=${random()}`;
  server.received.length = 0;
  server.next.length = 0;
  elsewhere.received.length = 0;
});

/** An expectation for one fault: the error class and what the message says. */
interface Expected {
  readonly error: typeof ConnectionError;
  readonly message: RegExp;
}

const secretJson = (): Fault => json(200, { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db', resourceVersion: '1' }, data: {} });

/** The fault matrix: each fault, what the server does, and what every operation must report. */
interface FaultCase {
  /** What the fault server answers. */
  readonly fault?: () => Fault;
  /** Another server URL (default: the fault server). */
  readonly url?: () => Promise<string>;
  /** Whether the kubeconfig trusts the fault server's certificate (default true). */
  readonly trust?: boolean;
  readonly expected: Expected;
}

const FAULTS: { readonly [name: string]: FaultCase } = {
  'refused': { url: () => FaultServer.refusedAddress({ tls: true }), expected: { error: ConnectionError, message: /connection refused by 127\.0\.0\.1:\d+/ } },
  'no answer': { fault: () => ({ kind: 'hang' }), expected: { error: ConnectionError, message: /timed out|no answer/ } },
  'slow drip': { fault: () => ({ kind: 'drip', body: '{"kind":"Secret","data":{' }), expected: { error: ConnectionError, message: /timed out|no answer/ } },
  'reset mid-body': { fault: () => ({ kind: 'reset', body: '{"kind":"Secret","data":{"k":"' }), expected: { error: ConnectionError, message: /was reset before the answer was complete/ } },
  '500': { fault: () => json(500, { message: random() }), expected: { error: ConnectionError, message: /the server answered HTTP 500/ } },
  '502': { fault: () => ({ kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' }), expected: { error: ConnectionError, message: /the server answered HTTP 502/ } },
  '503 with Retry-After': {
    fault: () => json(503, { message: 'unavailable' }, { 'retry-after': '1' }),
    expected: { error: ConnectionError, message: /the server answered HTTP 503 \(retry after 1 s\)/ },
  },
  '429': {
    fault: () => json(429, { kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429 }, { 'retry-after': '1' }),
    expected: { error: ConnectionError, message: /rate limited: the server answered HTTP 429 \(retry after 1 s\)/ },
  },
  '401': { fault: () => status(401, 'Unauthorized'), expected: { error: PermissionError, message: /did not accept the credentials of kubeconfig user faulty-user \(bearer token, HTTP 401\)/ } },
  '403': { fault: () => status(403, 'Forbidden', { kind: 'secrets' }), expected: { error: PermissionError, message: /may not \S+ secrets? .*in namespace floe-faults \(HTTP 403\)|may not create selfsubjectaccessreviews \(HTTP 403\)/ } },
  'HTML 404': {
    fault: () => ({ kind: 'status', status: 404, body: '<html><head><title>404 Not Found</title></head><body>nginx</body></html>', contentType: 'text/html' }),
    expected: { error: ConnectionError, message: /answered HTTP 404 with text\/html, not the apiserver's JSON Status/ },
  },
  'malformed JSON': { fault: () => ({ kind: 'status', status: 200, body: '{"kind": "Secret", "data": {"k": ', contentType: 'application/json' }), expected: { error: ConnectionError, message: /answered HTTP 200 with application\/json, not JSON/ } },
  'wrong shape': { fault: () => json(200, { unexpected: [1, 2, 3] }), expected: { error: ConnectionError, message: /answered with JSON that is not a (Secret|SecretList|SelfSubjectAccessReview)/ } },
  'self-signed TLS': { fault: secretJson, trust: false, expected: { error: ConnectionError, message: /TLS: the server's certificate is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/ } },
  'cross-origin 301': { fault: () => ({ kind: 'redirect', status: 301, to: `${elsewhere.address}${redirectPath}` }), expected: { error: ConnectionError, message: /redirect \(HTTP 301\) to another host, 127\.0\.0\.1:\d+; refused/ } },
  'cross-origin 307': { fault: () => ({ kind: 'redirect', status: 307, to: `${elsewhere.address}${redirectPath}` }), expected: { error: ConnectionError, message: /redirect \(HTTP 307\) to another host, 127\.0\.0\.1:\d+; refused/ } },
};

const OPERATIONS: { readonly [name: string]: (plugin: K8sSecretsPlugin) => Promise<unknown> } = {
  'get': (plugin) => plugin.getSecret('db/password'),
  'get-multi': (plugin) => plugin.getMultiKeySecret('db'),
  'set': (plugin) => plugin.setSecret('db/password', value),
  'list': (plugin) => plugin.listSecrets(),
};

async function pluginFor(fault: FaultCase): Promise<K8sSecretsPlugin> {
  const url = fault.url ? await fault.url() : server.address;
  if (fault.fault) server.fault = fault.fault();
  return new K8sSecretsPlugin({ namespace: 'floe-faults', kubeconfig: writeKubeconfig(dir, url, token, fault.trust ?? true) }, { retry: RETRY });
}

/** Every way an error can be printed, its cause chain included. */
function printed(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String(e), JSON.stringify(e) ?? '', inspect(e, { depth: Infinity, showHidden: true }), (e as Error).stack ?? '');
  }
  return parts.join('\n');
}

/** Nothing reached the redirect's host, and neither the token nor the value shows in `text`. */
function expectNoLeak(text: string): void {
  expect(elsewhere.received).toEqual([]);
  for (const secret of [token, value, Buffer.from(value).toString('base64')]) expect(text).not.toContain(secret);
  expect(text).not.toContain(redirectPath.split('?')[0]);
}

describe.each(Object.keys(FAULTS))('fault: %s', (faultName) => {
  const fault = FAULTS[faultName];

  test.each(Object.keys(OPERATIONS))('%s: only the expected error class escapes, within the time budget, with a clear message and nothing secret', async (operation) => {
    // GIVEN
    const plugin = await pluginFor(fault);

    // WHEN
    const started = Date.now();
    const error = await OPERATIONS[operation](plugin).then(
      (result) => new Error(`resolved instead of failing: ${JSON.stringify(result)}`),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;

    // THEN
    expect(FOUR.some((cls) => error instanceof cls)).toBe(true);
    expect(error).toBeInstanceOf(fault.expected.error);
    expect((error as Error).message).toMatch(fault.expected.message);
    expect(elapsed).toBeLessThan(RETRY.totalTimeoutMs + SLACK_MS);
    expectNoLeak(printed(error));
  });

  test('health: unhealthy within 5 s, never throws, and says why', async () => {
    const plugin = await pluginFor(fault);
    const started = Date.now();
    const health = await plugin.healthCheck();
    expect(Date.now() - started).toBeLessThan(HEALTH_LIMIT_MS);
    expect(health.state).toBe('unhealthy');
    expect(health.message).toMatch(new RegExp(`^${fault.expected.error.name}: k8s: `));
    expect(health.message).toMatch(fault.expected.message);
    expectNoLeak(health.message ?? '');
  });
});

describe('what counts as "not found"', () => {
  test('only the apiserver\'s JSON Status with reason NotFound means a missing Secret', async () => {
    const plugin = await pluginFor({ fault: () => status(404, 'NotFound', { kind: 'secrets', name: 'db' }), expected: FAULTS['HTML 404'].expected });
    await expect(plugin.getSecret('db/password')).resolves.toBeUndefined();
    await expect(plugin.getMultiKeySecret('db')).resolves.toEqual({});
  });

  test.each([
    ['a text/html 404', { kind: 'status', status: 404, body: '<html>Not Found</html>', contentType: 'text/html' } as Fault],
    ['a JSON 404 that is not a Status', json(404, { message: 'not found' })],
    ['a NotFound Status about another resource', status(404, 'NotFound', { kind: 'namespaces', name: 'db' })],
    ['a NotFound Status about another Secret', status(404, 'NotFound', { kind: 'secrets', name: 'other' })],
  ])('%s is an error, never undefined', async (_, answer) => {
    const plugin = await pluginFor({ fault: () => answer, expected: FAULTS['HTML 404'].expected });
    const error = await plugin.getSecret('db/password').catch((e: unknown) => e);
    expect(FOUR.some((cls) => error instanceof cls)).toBe(true);
  });
});

describe('the server\'s words in a Status', () => {
  test('a Status reason is shown only when it is one of Kubernetes\' StatusReasons; its message and details never', async () => {
    // GIVEN a Status whose reason, message and details are random letters (as a value could be)
    const letters = (): string => [...randomBytes(24)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
    const words = [letters(), letters(), letters()];
    const plugin = await pluginFor({
      fault: () => json(422, { kind: 'Status', status: 'Failure', message: words[0], reason: words[1], details: { name: words[2], kind: 'secrets' }, code: 422 }),
      expected: FAULTS['HTML 404'].expected,
    });

    // WHEN
    const error = await plugin.getSecret('db/password').catch((e: unknown) => e);

    // THEN
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as Error).message).toBe('k8s: get was refused with HTTP 422 (Unknown); check the key and the Secret');
    for (const word of words) expect(printed(error)).not.toContain(word);
  });
});

describe('a redirect never carries the token or a value to another host', () => {
  test.each([
    ['POST', status(404, 'NotFound', { kind: 'secrets', name: 'db' })],
    ['PUT', secretJson()],
  ])('set: the read answers, the write of the value (%s) is redirected and refused', async (write, readAnswer) => {
    // GIVEN a server that answers the read, then redirects the write to another port
    const plugin = await pluginFor({ fault: () => ({ kind: 'redirect', status: 307, to: `${elsewhere.address}${redirectPath}` }), expected: FAULTS['cross-origin 307'].expected });
    server.next.push(readAnswer);

    // WHEN
    const error = await plugin.setSecret('db/password', value).catch((e: unknown) => e);

    // THEN the write failed, naming the redirect's host only, and the other server saw nothing
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/redirect \(HTTP 307\) to another host, 127\.0\.0\.1:\d+; refused/);
    expect(server.received.map((r) => r.method)).toEqual(['GET', write]);
    expect(server.received[1].body).toContain(Buffer.from(value).toString('base64'));
    expectNoLeak(printed(error));
    expect(elsewhere.transcript()).toBe('');
  });

  test('the configured server does receive the token (so the check above is not vacuous)', async () => {
    const plugin = await pluginFor({ fault: () => status(404, 'NotFound', { kind: 'secrets', name: 'db' }), expected: FAULTS['HTML 404'].expected });
    await plugin.getSecret('db/password');
    expect(server.received[0].headers.authorization).toBe(`Bearer ${token}`);
  });

  test('a same-origin redirect is refused too: the apiserver never redirects its API', async () => {
    const plugin = await pluginFor({ fault: () => ({ kind: 'redirect', status: 302, to: `${server.address}/elsewhere` }), expected: FAULTS['cross-origin 307'].expected });
    await expect(plugin.getSecret('db/password')).rejects.toThrow(/answered with a redirect \(HTTP 302\) to the same server; refused/);
    expect(server.received).toHaveLength(1);
  });
});

describe('the server named in the kubeconfig', () => {
  test('without a kubeconfig (client-node then assumes http://localhost:8080): a SecretsConfigError that says to set one; health unhealthy', async () => {
    const empty = join(dir, 'empty-kubeconfig');
    writeFileSync(empty, JSON.stringify({
      'apiVersion': 'v1',
      'kind': 'Config',
      'clusters': [{ name: 'c', cluster: { server: 'http://localhost:8080' } }],
      'users': [{ name: 'u', user: {} }],
      'contexts': [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }));
    const plugin = new K8sSecretsPlugin({ namespace: 'floe-faults', kubeconfig: empty }, { retry: RETRY });
    await expect(plugin.getSecret('db/password')).rejects.toThrow(
      'k8s: get "db/password" failed: the kubeconfig\'s server http://localhost:8080 is plain http, which @kubernetes/client-node accepts only when the cluster ' +
        'sets insecure-skip-tls-verify: true (and http://localhost:8080 is what it assumes when it finds no kubeconfig: set kubeconfig or $KUBECONFIG)');
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringMatching(/^SecretsConfigError: k8s: health check .* is plain http/) });
  });

  const password = randomBytes(8).toString('hex');
  test.each([
    ['plain http to another host', 'http://10.0.0.1:8080', /is plain http to 10\.0\.0\.1:8080: credentials would cross the network in clear; use https/],
    ['user info in the URL', `https://admin:${password}@127.0.0.1:6443`, /holds a user name or password; remove it/],
  ])('%s is refused before anything is sent', (_, url, message) => {
    const kubeconfig = writeKubeconfig(dir, url, token);
    const error = (() => {
      try {
        return new K8sSecretsPlugin({ namespace: 'floe-faults', kubeconfig });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as Error).message).toMatch(message);
    expect(printed(error)).not.toContain(password);
    expectNoLeak(printed(error));
  });
});
