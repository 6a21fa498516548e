import { inspect } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  AuditEvent, AuditLogger, ConnectionError, Masked, NotImplementedError, PermissionError, randomSecret, RetryPolicy, SecretsConfigError,
} from '../src';
import { InMemoryPlugin } from './fake-plugin';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});

const fast: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, totalTimeoutMs: 2_000, attemptTimeoutMs: 500 };

function setup(retry: RetryPolicy = fast) {
  const events: AuditEvent[] = [];
  const plugin = new InMemoryPlugin({ audit: new AuditLogger([{ write: (e) => events.push(e) }]), retry, healthTimeoutMs: 300 });
  return { plugin, events };
}

describe('SecretsPlugin base class', () => {
  test('maps a missing key to undefined and lists by prefix, sorted', async () => {
    const { plugin } = setup();
    await plugin.setSecret('b/2', randomSecret());
    await plugin.setSecret('a/1', randomSecret());
    await plugin.setSecret('b/1', randomSecret());
    await expect(plugin.getSecret('nope/x')).resolves.toBeUndefined();
    await expect(plugin.listSecrets('b/')).resolves.toEqual(['b/1', 'b/2']);
    await expect(plugin.listSecrets()).resolves.toEqual(['a/1', 'b/1', 'b/2']);
  });

  test.each([
    ['', /key "" is empty/],
    ['/abs', /starts with "\/"; write it relative/],
    ['a/../b', /has a "." or ".." segment/],
    ['a//b', /has an empty segment/],
    ['a/b/', /has an empty segment/],
    ['bell\u0007', /holds a control character/],
  ])('refuses key %j before anything is sent', async (key, message) => {
    const { plugin } = setup();
    await expect(plugin.getSecret(key)).rejects.toThrow(message);
    expect(plugin.calls).toBe(0);
  });

  test('refuses non-string keys, values and bad prefixes without quoting the value', async () => {
    const { plugin } = setup();
    await expect(plugin.getSecret(42 as unknown as string)).rejects.toThrow('memory: key must be a string, got number');
    const error = await plugin.setSecret('k', { nested: 'v' } as unknown as string).catch((e: Error) => e);
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as Error).message).toBe('memory: the value for "k" must be a string, got object; convert it before storing');
    await expect(plugin.listSecrets('../x')).rejects.toThrow(/prefix "..\/x" has a "." or ".." segment/);
    expect(plugin.calls).toBe(0);
  });

  test('retries transient failures with backoff, and succeeds', async () => {
    const { plugin, events } = setup();
    plugin.fault = 'flaky';
    await plugin.setSecret('k', 'v');
    expect(plugin.calls).toBe(3);
    expect(events.map((e) => e.outcome)).toEqual(['success']);
  });

  test('gives up after the attempts with a ConnectionError that carries no internal detail', async () => {
    const { plugin } = setup();
    const value = randomSecret();
    plugin.store.set('k', value);
    plugin.fault = 'crash';
    const error = await plugin.getSecret('k').catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toBe('memory: get "k" failed: could not reach the backend; check the backend address and that it is up');
    expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(value);
    expect(plugin.calls).toBe(fast.attempts);
  });

  test('does not retry permission errors', async () => {
    const { plugin, events } = setup();
    plugin.fault = 'forbidden';
    await expect(plugin.getSecret('k')).rejects.toBeInstanceOf(PermissionError);
    expect(plugin.calls).toBe(1);
    expect(events).toEqual([expect.objectContaining({ action: 'get', key: 'k', outcome: 'failure', errorClass: 'PermissionError', requester: 'tester' })]);
  });

  test('times out a hung call within the policy and reports it', async () => {
    const { plugin } = setup({ ...fast, attempts: 2, attemptTimeoutMs: 50, totalTimeoutMs: 300 });
    plugin.fault = 'hang';
    const started = Date.now();
    await expect(plugin.getSecret('k')).rejects.toThrow('memory: get "k" failed: got no answer within 50 ms; check the backend address and that it is up');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('healthCheck never throws and answers within its timeout', async () => {
    const { plugin } = setup();
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    plugin.fault = 'hang';
    const started = Date.now();
    const status = await plugin.healthCheck();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(status).toMatchObject({ state: 'unhealthy', message: expect.stringMatching(/^ConnectionError: memory: health failed: got no answer within \d+ ms; check the backend address and that it is up$/) });
    plugin.fault = 'forbidden';
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: 'PermissionError: memory: forbidden' });
  });

  test('multi-key secrets are not implemented unless the backend says so', async () => {
    const { plugin } = setup();
    await expect(plugin.getMultiKeySecret('db')).rejects.toBeInstanceOf(NotImplementedError);
  });

  test('pod-spec fragments of seeds 000 and 001', () => {
    const { plugin } = setup();
    expect(plugin.generatePodEnvSpec('db-creds')).toEqual({ envFrom: [{ secretRef: { name: 'db-creds' } }] });
    expect(plugin.injectEnvVars({ DATABASE_PASSWORD: 'db-creds/password' })).toEqual({
      env: [{ name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }],
    });
    expect(() => plugin.injectEnvVars({ X: 'no-key' })).toThrow('memory: env var X references "no-key"; write it as "<secret>/<key>", e.g. "db-creds/password"');
  });

  test('one span per call with the key and plugin as attributes, never the value', async () => {
    exporter.reset();
    const { plugin } = setup();
    const value = randomSecret();
    await plugin.setSecret('db/password', value);
    await plugin.getSecret('db/password');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['floe.secrets.set', 'floe.secrets.get']);
    expect(spans[0].attributes).toEqual({ 'floe.secrets.plugin': 'memory', 'floe.secrets.key': 'db/password' });
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.events, s.status]))).not.toContain(value);
  });

  test('audit events carry the trace and span ids of the active span', async () => {
    const { plugin, events } = setup();
    await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      await plugin.getSecret('k');
      span.end();
    });
    expect(events[0].traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(events[0].spanId).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('Masked', () => {
  test('never shows its value in strings, JSON or inspect', () => {
    const value = randomSecret();
    const masked = new Masked(value);
    expect(masked.reveal()).toBe(value);
    for (const shown of [String(masked), `${masked}`, JSON.stringify({ masked }), inspect(masked), inspect({ deep: { masked } }, { depth: 5 })]) {
      expect(shown).not.toContain(value);
      expect(shown).toContain('**********');
    }
  });
});
