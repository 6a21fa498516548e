import { randomBytes } from 'node:crypto';
import { createServer, Server, Socket } from 'node:net';
import { inspect } from 'node:util';
import { AuditEvent, AuditLogger } from './audit';
import { ConnectionError, PermissionError, SecretsConfigError, SecretsError } from './errors';
import { HealthStatus, PluginOptions, SecretsPlugin } from './plugin';

/** What the compliance suite needs to exercise one backend. */
export interface ComplianceTarget {
  /** Shown in the suite's name, e.g. `k8s (real kube-apiserver)`. */
  readonly name: string;
  /** The list prefix under which every {@link ComplianceTarget.key} lies. */
  readonly prefix: string;
  /** A fresh key, unique to this run, in a place the authorized plugin may write, e.g. `compliance-x/password`. */
  key(suffix: string): string;
  /** A plugin allowed to read and write the keys. */
  plugin(options: PluginOptions): Promise<SecretsPlugin>;
  /** A plugin with valid credentials that is not allowed to read or write the keys. */
  unauthorizedPlugin(options: PluginOptions): Promise<SecretsPlugin>;
  /** A plugin pointed at `address` (`127.0.0.1:<port>`), which accepts connections and never answers. */
  unreachablePlugin(address: string, options: PluginOptions): Promise<SecretsPlugin>;
}

/** The environment variable that sets {@link compliancePrefix}. */
export const COMPLIANCE_PREFIX_ENV = 'FLOE_COMPLIANCE_PREFIX';

/**
 * Where a compliance run against a real backend writes: `$FLOE_COMPLIANCE_PREFIX` when set (e.g.
 * `ci/floe-compliance/`, a path the run's credentials are granted), else `fallback`. Each run
 * writes below it under a random name of its own.
 *
 * @throws Error when the value is not a relative path of names ending in "/" (no "." or ".." segment)
 */
export function compliancePrefix(fallback = 'floe-compliance/', env: { readonly [name: string]: string | undefined } = process.env): string {
  const value = env[COMPLIANCE_PREFIX_ENV] ?? fallback;
  if (!/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)+$/.test(value)) {
    throw new Error(`${COMPLIANCE_PREFIX_ENV} must be a relative path of names ending in "/", e.g. "ci/floe-compliance/"; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A random value that stands in for a secret. */
export function randomSecret(): string {
  return `v-${randomBytes(18).toString('base64url')}`;
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers (a hung backend). */
export async function silentServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * The seed's BaseSecretsPluginTests as a reusable jest suite: call it at the top level of a test
 * file with a {@link ComplianceTarget}. Every value used is random; the suite checks that none of
 * them reaches an error, an audit event or the plugin's printed form.
 */
export function describeSecretsPluginCompliance(target: ComplianceTarget): void {
  describe(`SecretsPlugin compliance: ${target.name}`, () => {
    const events: AuditEvent[] = [];
    const options: PluginOptions = {
      audit: new AuditLogger([{ write: (event) => events.push(event) }]),
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 3_000, attemptTimeoutMs: 1_500 },
    };
    const values: string[] = [];
    const secret = () => {
      const value = randomSecret();
      values.push(value);
      return value;
    };
    let plugin: SecretsPlugin;

    beforeAll(async () => {
      plugin = await target.plugin(options);
    });

    describePluginBasics({ plugin: () => plugin, unreachable: (address) => target.unreachablePlugin(address, {}), events, secrets: values });

    test('getSecret returns the value, or undefined for a missing key (CR-004)', async () => {
      const key = target.key('get');
      const value = secret();
      await plugin.setSecret(key, value);
      await expect(plugin.getSecret(key)).resolves.toBe(value);
      await expect(plugin.getSecret(target.key('missing'))).resolves.toBeUndefined();
    });

    test('setSecret creates, then updates', async () => {
      const key = target.key('set');
      const first = secret();
      const second = secret();
      await plugin.setSecret(key, first, { owner: 'compliance' });
      await expect(plugin.getSecret(key)).resolves.toBe(first);
      await plugin.setSecret(key, second);
      await expect(plugin.getSecret(key)).resolves.toBe(second);
    });

    test('listSecrets returns keys, and filters by prefix', async () => {
      const a = target.key('list-a');
      const b = target.key('list-b');
      await plugin.setSecret(a, secret());
      await plugin.setSecret(b, secret());
      const all = await plugin.listSecrets(target.prefix);
      expect(all).toEqual(expect.arrayContaining([a, b]));
      const onlyA = await plugin.listSecrets(a);
      expect(onlyA).toContain(a);
      expect(onlyA).not.toContain(b);
      expect(await plugin.listSecrets(`${target.prefix}no-such-prefix-`)).toEqual([]);
    });

    test('bad keys and values are refused before anything is sent', async () => {
      for (const key of ['', '/abs', 'a/../b', 'a//b']) {
        await expect(plugin.getSecret(key)).rejects.toBeInstanceOf(SecretsConfigError);
      }
      await expect(plugin.setSecret(target.key('bad'), 42 as unknown as string)).rejects.toBeInstanceOf(SecretsConfigError);
      await expect(plugin.getSecret(target.key('bad'))).resolves.toBeUndefined();
    });

    test('raises PermissionError when unauthorized (7A-FR-060), naming no value', async () => {
      const key = target.key('perm');
      const value = secret();
      await plugin.setSecret(key, value);
      const denied = await target.unauthorizedPlugin(options);
      const read = await denied.getSecret(key).catch((e: unknown) => e);
      expect(read).toBeInstanceOf(PermissionError);
      const write = await denied.setSecret(key, secret()).catch((e: unknown) => e);
      expect(write).toBeInstanceOf(PermissionError);
      for (const error of [read, write] as SecretsError[]) {
        expect(`${error.message} ${error.stack}`).not.toContain(value);
        expect(error.plugin).toBe(plugin.name);
      }
      expect(events.some((e) => e.outcome === 'failure' && e.errorClass === 'PermissionError' && e.key === key)).toBe(true);
    });

    test('raises ConnectionError when the backend does not answer (7A-FR-061)', async () => {
      const silent = await silentServer();
      try {
        const unreachable = await target.unreachablePlugin(silent.address, options);
        await expect(unreachable.getSecret(target.key('conn'))).rejects.toBeInstanceOf(ConnectionError);
      } finally {
        await silent.close();
      }
    });

    test('every attempt is audited with requester, action, key and outcome, never the value (REQ-140)', async () => {
      const key = target.key('audit');
      const value = secret();
      events.length = 0;
      await plugin.setSecret(key, value);
      await plugin.getSecret(key);
      expect(events.map((e) => [e.action, e.key, e.outcome])).toEqual([['set', key, 'success'], ['get', key, 'success']]);
      for (const event of events) {
        expect(event.requester).toBeTruthy();
        expect(event.plugin).toBe(plugin.name);
        expect(Date.parse(event.timestamp)).not.toBeNaN();
      }
      expect(JSON.stringify(events)).not.toContain(value);
    });
  });
}

/** A plugin as {@link describePluginBasics} checks it: metadata and a health check. */
interface CheckedPlugin {
  readonly name: string;
  readonly version: string;
  readonly floeApiVersion: string;
  healthCheck(): Promise<HealthStatus>;
}

/**
 * What every floe plugin's compliance suite checks, whatever its kind: metadata, a health check
 * that is healthy and, against an address that never answers, unhealthy within 5 s, and afterwards
 * that no secret (`secrets`: values, tokens) reached its audit events or its printed form. Call
 * inside the suite's describe; `plugin()` is read once the suite's beforeAll has run.
 *
 * @requirement CR-001 (metadata)
 * @requirement CR-002 (health check)
 */
export function describePluginBasics(suite: {
  readonly plugin: () => CheckedPlugin;
  /** A plugin of the same kind whose backend is `address`. */
  readonly unreachable: (address: string) => Promise<CheckedPlugin>;
  readonly events: readonly AuditEvent[];
  readonly secrets: readonly string[];
}): void {
  afterAll(() => {
    const printed = JSON.stringify(suite.events) + inspect(suite.plugin(), { depth: 10 }) + JSON.stringify(suite.plugin());
    for (const secret of suite.secrets) expect(printed).not.toContain(secret);
  });

  test('has name, version and floeApiVersion (CR-001)', () => {
    const plugin = suite.plugin();
    expect(plugin.name).toMatch(/^[a-z0-9-]+$/);
    expect(plugin.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(plugin.floeApiVersion).toMatch(/^\d+\.\d+$/);
  });

  test('healthCheck is healthy, and within 5 s unhealthy against an address that never answers (CR-002)', async () => {
    await expect(suite.plugin().healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    const silent = await silentServer();
    try {
      const unreachable = await suite.unreachable(silent.address);
      const started = Date.now();
      const status = await unreachable.healthCheck();
      expect(Date.now() - started).toBeLessThanOrEqual(5_000);
      expect(status.state).toBe('unhealthy');
    } finally {
      await silent.close();
    }
  }, 10_000);
}
