import { randomBytes } from 'node:crypto';
import { compliancePrefix, ComplianceTarget, describeSecretsPluginCompliance, PluginOptions } from '@floe-secrets/core';
import { InfisicalSecretsPlugin, InfisicalSecretsPluginConfig } from '../src';
import { InfisicalTestServer } from './infisical-test-server';

/** A fresh folder per run, so runs never see each other's keys. */
const run = randomBytes(4).toString('hex');

function target(
  name: string,
  folder: string,
  config: () => InfisicalSecretsPluginConfig,
  denied: () => Pick<InfisicalSecretsPluginConfig, 'clientId' | 'clientSecret'>,
): ComplianceTarget {
  return {
    name,
    key: (suffix) => `${folder}/${suffix}`,
    prefix: `${folder}/`,
    plugin: async (options: PluginOptions) => new InfisicalSecretsPlugin(config(), options),
    unauthorizedPlugin: async (options: PluginOptions) => new InfisicalSecretsPlugin({ ...config(), ...denied() }, options),
    unreachablePlugin: async (address: string, options: PluginOptions) => new InfisicalSecretsPlugin({ ...config(), siteUrl: `http://${address}` }, options),
  };
}

// (a) The local InfisicalTestServer: always runs.
describe('against the local InfisicalTestServer', () => {
  const allowed = { clientId: `floe-rw-${run}`, clientSecret: randomBytes(24).toString('base64url'), access: 'read-write' as const };
  const denied = { clientId: `floe-none-${run}`, clientSecret: randomBytes(24).toString('base64url'), access: 'none' as const };
  let server: InfisicalTestServer;

  beforeAll(async () => {
    server = await InfisicalTestServer.start({ identities: [allowed, denied] });
  });

  afterAll(async () => {
    await server.close();
  });

  describeSecretsPluginCompliance(target(
    'infisical (local InfisicalTestServer)',
    `compliance-${run}`,
    () => ({ siteUrl: server.url, clientId: allowed.clientId, clientSecret: allowed.clientSecret, projectId: server.projectId, environment: 'dev', secretPath: '/compute' }),
    () => ({ clientId: denied.clientId, clientSecret: denied.clientSecret }),
  ));
});

// (b) A real Infisical, unchanged, when configured.
const env = process.env;
const REAL = ['INFISICAL_SITE_URL', 'INFISICAL_CLIENT_ID', 'INFISICAL_CLIENT_SECRET', 'INFISICAL_ENVIRONMENT'];
const missing = REAL.filter((name) => !env[name]);
if (!env.INFISICAL_PROJECT_ID && !env.INFISICAL_PROJECT_SLUG) missing.push('INFISICAL_PROJECT_ID or INFISICAL_PROJECT_SLUG');
if (missing.length > 0) {
  process.stderr.write(`infisical compliance: real-server suite NOT registered (set ${missing.join(', ')} to run it); the local InfisicalTestServer suite ran\n`);
} else {
  const config = (): InfisicalSecretsPluginConfig => ({
    siteUrl: env.INFISICAL_SITE_URL,
    clientId: env.INFISICAL_CLIENT_ID as string,
    clientSecret: env.INFISICAL_CLIENT_SECRET as string,
    ...(env.INFISICAL_PROJECT_ID ? { projectId: env.INFISICAL_PROJECT_ID } : { projectSlug: env.INFISICAL_PROJECT_SLUG }),
    environment: env.INFISICAL_ENVIRONMENT as string,
    secretPath: env.INFISICAL_SECRET_PATH ?? '/',
  });
  const hasDenied = Boolean(env.INFISICAL_DENIED_CLIENT_ID && env.INFISICAL_DENIED_CLIENT_SECRET);
  if (!hasDenied) {
    process.stderr.write('infisical compliance (real server): INFISICAL_DENIED_CLIENT_ID/SECRET not set; the unauthorized case uses a wrong client secret instead\n');
  }
  // FLOE_COMPLIANCE_PREFIX (default floe-compliance/) + a folder of this run: grant the identity read and write there.
  const folder = `${compliancePrefix()}${run}`;

  describe('against a real Infisical', () => {
    afterAll(async () => {
      // Best effort: delete this run's secrets (the empty folder stays), through the HTTP API.
      const c = config();
      const api = async (method: string, path: string, body?: object, token?: string): Promise<{ [field: string]: unknown }> => {
        const response = await fetch(`${c.siteUrl}${path}`, {
          method,
          redirect: 'error',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return await response.json() as { [field: string]: unknown };
      };
      try {
        const { accessToken } = await api('POST', '/api/v1/auth/universal-auth/login', { clientId: c.clientId, clientSecret: c.clientSecret });
        const project = c.projectId ?? (await api('GET', `/api/v2/workspace/${c.projectSlug}`, undefined, accessToken as string)).id as string;
        const secretPath = c.secretPath === '/' ? `/${folder}` : `${c.secretPath}/${folder}`;
        const scope = new URLSearchParams({ workspaceId: project, environment: c.environment, secretPath, viewSecretValue: 'false' });
        const { secrets } = await api('GET', `/api/v3/secrets/raw?${scope}`, undefined, accessToken as string);
        for (const secret of secrets as Array<{ secretKey: string }>) {
          await api('DELETE', `/api/v3/secrets/raw/${encodeURIComponent(secret.secretKey)}`, { workspaceId: project, environment: c.environment, secretPath }, accessToken as string)
            .catch(() => undefined);
        }
      } catch {
        process.stderr.write(`infisical compliance (real server): could not clean up folder ${folder}; delete it by hand\n`);
      }
    }, 30_000);

    describeSecretsPluginCompliance(target(
      `infisical (real: ${env.INFISICAL_SITE_URL})`,
      folder,
      config,
      () => (hasDenied
        ? { clientId: env.INFISICAL_DENIED_CLIENT_ID as string, clientSecret: env.INFISICAL_DENIED_CLIENT_SECRET as string }
        : { clientId: env.INFISICAL_CLIENT_ID as string, clientSecret: `wrong-${randomBytes(12).toString('hex')}` }),
    ));
  });
}
