import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConnectionError, NotImplementedError, PermissionError, PluginOptions, SecretsConfigError } from '@floe-secrets/core';
import { Fault, FaultServer, standardFaults } from '../../floe-secrets-core/test/fault-server';
import { VaultSecretsPlugin } from '../src';

/*
 * The Vault plugin against every fault of issue 10's matrix: (get, set, list, health) x (refused, no
 * answer, slow drip, reset mid-body, 500, 502, 503 with Retry-After, 429, 401, 403, HTML 404,
 * malformed JSON, wrong shape, self-signed TLS, cross-origin 301/307), once with a token and once
 * with AppRole (whose login carries the role and secret ids). Only the four error classes escape,
 * each within the call's time budget; health answers within 5 s and never throws; no credential or
 * value reaches any origin but the configured one, nor any error's message, stack, cause or
 * printed form.
 */

const random = (): string => randomBytes(18).toString('base64url');

/** A small budget: two attempts, 1.5 s in all. */
const BUDGET = { attempts: 2, baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 1_500, attemptTimeoutMs: 600 };
const options: PluginOptions = { retry: BUDGET };
/** Scheduling slack on a loaded machine. */
const SLACK_MS = 700;

const ESCAPING = [PermissionError, ConnectionError, SecretsConfigError, NotImplementedError];

/** What each fault must say: the error class and a clear clause. */
const EXPECTED: { readonly [fault: string]: { readonly error: typeof ConnectionError; readonly says: RegExp } } = {
  'refused': { error: ConnectionError, says: /connection refused by 127\.0\.0\.1:\d+/ },
  'no answer': { error: ConnectionError, says: /got no answer within \d+ ms/ },
  'slow drip': { error: ConnectionError, says: /got no answer within \d+ ms/ },
  'reset mid-body': { error: ConnectionError, says: /was reset/ },
  '500': { error: ConnectionError, says: /answered HTTP 500/ },
  '502': { error: ConnectionError, says: /answered HTTP 502/ },
  '503 with Retry-After': { error: ConnectionError, says: /answered HTTP 503 \(retry after 1 s\)/ },
  '429': { error: ConnectionError, says: /rate limited.*HTTP 429 \(retry after 1 s\)/ },
  '401': { error: PermissionError, says: /HTTP 401|refused/ },
  '403': { error: PermissionError, says: /HTTP 403|refused|expired/ },
  'HTML 404': { error: ConnectionError, says: /answered HTTP 404 with an answer that is not Vault's \(text\/html\)/ },
  'malformed JSON': { error: ConnectionError, says: /answered HTTP 200 with an answer that is not Vault's/ },
  'wrong shape': { error: ConnectionError, says: /answered HTTP 200 with an answer that is not Vault's/ },
  'self-signed TLS': { error: ConnectionError, says: /TLS with 127\.0\.0\.1:\d+ failed: the server's certificate is self-signed/ },
  'cross-origin 301': { error: ConnectionError, says: /redirect \(HTTP 301\) to another host, 127\.0\.0\.1:\d+; refused/ },
  'cross-origin 307': { error: ConnectionError, says: /redirect \(HTTP 307\) to another host, 127\.0\.0\.1:\d+; refused/ },
};

type Op = 'get' | 'set' | 'list' | 'health';
const OPS: readonly Op[] = ['get', 'set', 'list', 'health'];

let server: FaultServer;
let tls: FaultServer;
let elsewhere: FaultServer;
let refused: string;
/** The random path and query the redirects point at: must never show up in an error. */
const stolen = random();

beforeAll(async () => {
  server = await FaultServer.start();
  tls = await FaultServer.start({ tls: true });
  elsewhere = await FaultServer.start();
  refused = await FaultServer.refusedAddress();
});

afterAll(async () => {
  await server.close();
  await tls.close();
  await elsewhere.close();
});

const faults = (): Array<[string, Fault | 'refused' | 'tls']> => [
  ['refused', 'refused'],
  ...Object.entries(standardFaults(`${elsewhere?.address ?? 'http://127.0.0.1:1'}/steal/${stolen}?token=${stolen}`)),
  ['self-signed TLS', 'tls'],
];

describe.each(['token', 'approle'] as const)('%s auth', (method) => {
  const cases = OPS.flatMap((op) => Object.keys(EXPECTED).map((fault) => [op, fault] as const));

  test.each(cases)('%s under "%s": only the four error classes, within the budget, nothing leaks', async (op, faultName) => {
    const fault = faults().find(([name]) => name === faultName)![1];
    const secrets = { token: random(), roleId: random(), secretId: random(), value: random() };
    let address = server.address;
    if (fault === 'refused') address = refused;
    else if (fault === 'tls') address = tls.address;
    else server.fault = fault;
    server.received.length = 0;
    tls.received.length = 0;
    elsewhere.received.length = 0;
    const auth = method === 'token'
      ? { method: 'token', token: secrets.token }
      : { method: 'approle', roleId: secrets.roleId, secretId: secrets.secretId };
    const plugin = new VaultSecretsPlugin({ address, auth }, options);
    const started = Date.now();
    let error: unknown;
    let healthMessage = '';
    try {
      if (op === 'health') {
        const health = await plugin.healthCheck();
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(health.state).toBe('unhealthy');
        healthMessage = health.message ?? '';
        expect(healthMessage.startsWith(`${EXPECTED[faultName].error.name}: `)).toBe(true);
        expect(healthMessage).toMatch(EXPECTED[faultName].says);
      } else {
        const call = op === 'get' ? plugin.getSecret('app/db/password')
          : op === 'set' ? plugin.setSecret('app/db/password', secrets.value, { owner: random() })
            : plugin.listSecrets('app/');
        error = await call.then(() => new Error(`${op} reported success`), (e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(BUDGET.totalTimeoutMs + SLACK_MS);
        expect(ESCAPING.some((kind) => error instanceof kind)).toBe(true);
        expect(error).toBeInstanceOf(EXPECTED[faultName].error);
        expect((error as Error).message).toMatch(EXPECTED[faultName].says);
      }
    } finally {
      plugin.close();
    }
    // Nothing reached another origin; nothing secret is in what the caller sees.
    expect(elsewhere.received).toEqual([]);
    const seen = [
      healthMessage,
      error === undefined ? '' : `${(error as Error).message}\n${(error as Error).stack}\n${String((error as { cause?: unknown }).cause)}`,
      inspect(error, { depth: Infinity, showHidden: true }),
      JSON.stringify(error) ?? '',
      inspect(plugin, { depth: Infinity, showHidden: true }),
    ].join('\n');
    for (const secret of [...Object.values(secrets), stolen]) expect(seen).not.toContain(secret);
  });
});
