/**
 * The fault matrix (issue 10): the plugin x (get, set, list, health) x every fault a network, a proxy
 * or a hostile server can answer with. Only the four SecretsErrors escape, each within the retry
 * policy's time budget; health answers within 5 s and never throws; no credential or value reaches
 * any origin but the configured one, or any printed form of the error.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  ConnectionError, NotImplementedError, PermissionError, RetryPolicy, SecretsConfigError, SecretsPlugin,
} from '@floe-secrets/core';
import { FaultServer, standardFaults } from '../../floe-secrets-core/test/fault-server';
import { InfisicalSecretsPlugin } from '../src';

const random = (): string => randomBytes(18).toString('base64url');
const POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 2_000, attemptTimeoutMs: 600 };
const ESCAPING = [PermissionError, ConnectionError, SecretsConfigError, NotImplementedError];

/** What each fault must say, besides being one of the four classes. */
const EXPECTED: { readonly [fault: string]: [Function, RegExp] } = {
  'refused': [ConnectionError, /failed: connection refused by 127\.0\.0\.1:\d+/],
  'self-signed TLS': [ConnectionError, /TLS with 127\.0\.0\.1:\d+ failed: the server's certificate is self-signed/],
  'no answer': [ConnectionError, /got no answer within \d+ ms/],
  'slow drip': [ConnectionError, /got no answer within \d+ ms/],
  'reset mid-body': [ConnectionError, /reset/],
  '500': [ConnectionError, /the server answered HTTP 500/],
  '502': [ConnectionError, /the server answered HTTP 502/],
  '503 with Retry-After': [ConnectionError, /the server answered HTTP 503 \(retry after 1 s\)/],
  '429': [ConnectionError, /rate limited by Infisical \(HTTP 429, retry after 1 s\)/],
  '401': [PermissionError, /\(HTTP 401\)/],
  '403': [PermissionError, /\(HTTP 403\)/],
  'HTML 404': [ConnectionError, /HTTP 404 with a body that is not JSON \(text\/html\).*not the Infisical API/],
  'malformed JSON': [ConnectionError, /not as the Infisical API does( \(no access token\))?; check siteUrl/],
  'wrong shape': [ConnectionError, /not as the Infisical API does( \(no access token\))?; check siteUrl/],
  'cross-origin 301': [ConnectionError, /redirect \(HTTP 301\) to another host, 127\.0\.0\.1:\d+; refused/],
  'cross-origin 307': [ConnectionError, /redirect \(HTTP 307\) to another host, 127\.0\.0\.1:\d+; refused/],
};

type Operation = 'get' | 'set' | 'list' | 'health';
const OPERATIONS: Operation[] = ['get', 'set', 'list', 'health'];

describe('Infisical plugin fault matrix', () => {
  let server: FaultServer;
  let tls: FaultServer;
  let elsewhere: FaultServer;
  const faults = (): { [name: string]: ReturnType<typeof standardFaults>[string] } => standardFaults(`${elsewhere.address}/collect?from=infisical`);

  beforeAll(async () => {
    server = await FaultServer.start();
    tls = await FaultServer.start({ tls: true });
    elsewhere = await FaultServer.start();
  });

  afterAll(async () => {
    await server.close();
    await tls.close();
    await elsewhere.close();
  });

  /** A plugin whose login and project lookup succeed (unless `faultFromStart`), then meet the fault. */
  function setup(siteUrl: string, clientSecret: string, token: string, faultFromStart: boolean): InfisicalSecretsPlugin {
    server.next.length = 0;
    if (!faultFromStart) {
      server.next.push(
        { kind: 'status', status: 200, contentType: 'application/json', body: JSON.stringify({ accessToken: token, expiresIn: 3600, tokenType: 'Bearer' }) },
        { kind: 'status', status: 200, contentType: 'application/json', body: JSON.stringify({ workspace: { id: 'p1', slug: 'p', environments: [{ slug: 'dev' }] } }) },
      );
    }
    return new InfisicalSecretsPlugin({ siteUrl, clientId: 'floe-client', clientSecret, projectId: 'p1', environment: 'dev', cacheTtlMs: 0 }, { retry: POLICY });
  }

  async function run(plugin: SecretsPlugin, operation: Operation, value: string): Promise<unknown> {
    switch (operation) {
      case 'get': return plugin.getSecret('folder/key');
      case 'set': return plugin.setSecret('folder/key', value);
      case 'list': return plugin.listSecrets('folder/');
      case 'health': return plugin.healthCheck();
    }
  }

  const cases: Array<[string, Operation, boolean]> = [];
  for (const fault of Object.keys(EXPECTED)) {
    for (const operation of OPERATIONS) {
      cases.push([fault, operation, false]);
      // The same fault met by the login itself.
      if (fault !== 'refused' && fault !== 'self-signed TLS') cases.push([fault, operation, true]);
    }
  }

  test.each(cases)('%s on %s (at the login: %s)', async (fault, operation, atLogin) => {
    const clientSecret = random();
    const token = random();
    const value = random();
    elsewhere.received.length = 0;
    let siteUrl = server.address;
    if (fault === 'refused') siteUrl = await FaultServer.refusedAddress();
    else if (fault === 'self-signed TLS') siteUrl = tls.address;
    else server.fault = faults()[fault];
    const plugin = setup(siteUrl, clientSecret, token, atLogin || fault === 'self-signed TLS');

    const started = Date.now();
    const outcome = await run(plugin, operation, value).then((result) => ({ result }), (error: unknown) => ({ error }));
    const elapsed = Date.now() - started;

    const [errorClass, pattern] = EXPECTED[fault];
    if (operation === 'health') {
      expect(outcome).toHaveProperty('result');
      const status = (outcome as { result: { state: string; message: string } }).result;
      expect(status.state).toBe('unhealthy');
      expect(status.message).toMatch(pattern);
      expect(elapsed).toBeLessThan(5_000);
    } else {
      expect(outcome).toHaveProperty('error');
      const error = (outcome as { error: Error }).error;
      expect(ESCAPING.some((c) => error instanceof c)).toBe(true);
      expect(error).toBeInstanceOf(errorClass);
      expect(error.message).toMatch(pattern);
      expect(elapsed).toBeLessThan(POLICY.totalTimeoutMs + 500);
      const printed = `${error.message}\n${error.stack}\n${inspect(error, { depth: Infinity, showHidden: true })}\n${JSON.stringify(error)}\n${String((error as { cause?: unknown }).cause)}`;
      for (const secret of [clientSecret, token, value]) expect(printed).not.toContain(secret);
      expect(printed).not.toContain('collect?from');
    }
    // Nothing ever reaches another origin.
    expect(elsewhere.received).toEqual([]);
    plugin.close();
  }, 10_000);
});
