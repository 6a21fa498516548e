import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { BackendHttp, ConnectionError, HttpStatusError, NOT_JSON, parseRetryAfter, TransportError } from '../src';
import { FaultServer } from './fault-server';

const random = (): string => randomBytes(18).toString('base64url');

describe('BackendHttp', () => {
  let server: FaultServer;
  let elsewhere: FaultServer;
  let client: BackendHttp;

  beforeEach(async () => {
    server = await FaultServer.start();
    elsewhere = await FaultServer.start();
    client = new BackendHttp({ plugin: 'test', baseUrl: server.address });
  });

  afterEach(async () => {
    client.close();
    await server.close();
    await elsewhere.close();
  });

  const send = (body?: unknown, headers?: { [name: string]: string }): Promise<unknown> =>
    client.request({ method: body === undefined ? 'GET' : 'POST', path: '/v1/x', body, headers, signal: AbortSignal.timeout(3_000) });

  test.each([301, 307] as const)('refuses a cross-origin %i redirect, naming only the host, and sends nothing there', async (status) => {
    const token = random();
    const value = random();
    const query = random();
    server.fault = { kind: 'redirect', status, to: `${elsewhere.address}/steal/${query}?q=${query}` };
    const error = await send({ value }, { 'x-vault-token': token }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const text = `${(error as Error).message}${(error as Error).stack}${inspect(error, { depth: Infinity })}`;
    expect((error as Error).message).toContain(`another host, ${new URL(elsewhere.address).host}`);
    expect(text).not.toContain(query);
    expect(elsewhere.received).toHaveLength(0);
    expect(server.transcript()).toContain(value); // the configured origin got the request
  });

  test('follows a same-origin 307 with method and body', async () => {
    const value = random();
    server.next.push({ kind: 'redirect', status: 307, to: '/v1/moved' });
    await expect(send({ value })).resolves.toMatchObject({ status: 200 });
    expect(server.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/x', 'POST /v1/moved']);
    expect(server.received[1].body).toContain(value);
  });

  test('a 404 with an HTML body is an HttpStatusError without JSON', async () => {
    server.fault = { kind: 'status', status: 404, body: '<html>not here</html>', contentType: 'text/html' };
    const error = await send().catch((e: unknown) => e) as HttpStatusError;
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error.status).toBe(404);
    expect(error.isJson).toBe(false);
    expect(error.json()).toBe(NOT_JSON);
  });

  test('malformed JSON is NOT_JSON and never quoted', async () => {
    const value = random();
    server.fault = { kind: 'status', status: 200, body: `{"password": "${value}"`, contentType: 'application/json' };
    await expect(send()).resolves.toMatchObject({ json: NOT_JSON });
    server.fault = { kind: 'status', status: 500, body: `{"password": "${value}"`, contentType: 'application/json' };
    const error = await send().catch((e: unknown) => e) as HttpStatusError;
    expect(`${error.message}${error.stack}${inspect(error, { depth: Infinity, showHidden: true })}${JSON.stringify(error)}`).not.toContain(value);
  });

  test('the JSON body of an error answer is kept for decisions but never printed', async () => {
    const value = random();
    server.fault = { kind: 'status', status: 400, body: JSON.stringify({ errors: [value] }), contentType: 'application/json' };
    const error = await send().catch((e: unknown) => e) as HttpStatusError;
    expect(error.json()).toEqual({ errors: [value] });
    expect(`${error.message}${error.stack}${inspect(error, { depth: Infinity, showHidden: true })}${JSON.stringify(error)}${String(error)}`).not.toContain(value);
  });

  test('says "refused" when nothing listens', async () => {
    const refused = new BackendHttp({ plugin: 'test', baseUrl: await FaultServer.refusedAddress() });
    const error = await refused.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(3_000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).failure).toBe('refused');
    expect((error as Error).message).toMatch(/^connection refused by 127\.0\.0\.1:\d+/);
  });

  test('names the TLS reason for a self-signed certificate', async () => {
    const tls = await FaultServer.start({ tls: true });
    const secure = new BackendHttp({ plugin: 'test', baseUrl: tls.address });
    try {
      const error = await secure.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(3_000) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as Error).message).toContain('self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)');
      expect(tls.received).toHaveLength(0);
    } finally {
      secure.close();
      await tls.close();
    }
  });

  test('reads Retry-After and names it in the summary', async () => {
    server.fault = { kind: 'status', status: 503, body: '{"errors":[]}', contentType: 'application/json', headers: { 'retry-after': '30' } };
    const error = await send().catch((e: unknown) => e) as HttpStatusError;
    expect(error.retryAfterMs).toBe(30_000);
    expect(error.summary).toBe('the server answered HTTP 503 (retry after 30 s)');
    expect(parseRetryAfter(new Date(Date.now() + 5_000).toUTCString())).toBeGreaterThan(3_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  test('cuts off an answer larger than the limit', async () => {
    const small = new BackendHttp({ plugin: 'test', baseUrl: server.address, maxResponseBytes: 1024 });
    server.fault = { kind: 'status', status: 200, body: `"${'x'.repeat(4096)}"`, contentType: 'application/json' };
    try {
      await expect(small.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(3_000) })).rejects.toMatchObject({ failure: 'too-large' });
    } finally {
      small.close();
    }
  });

  test('a reset in the middle of the body is a TransportError', async () => {
    server.fault = { kind: 'reset' };
    await expect(send()).rejects.toBeInstanceOf(TransportError);
  });

  test('the signal ends a request that gets no answer', async () => {
    server.fault = { kind: 'hang' };
    const started = Date.now();
    await expect(client.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  test('refuses an address with a user name or password', () => {
    expect(() => new BackendHttp({ plugin: 'test', baseUrl: `https://u:${random()}@example.com` })).toThrow('must not hold a user name or password');
  });
});
