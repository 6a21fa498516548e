import { Masked, SameShape } from '@floe-secrets/core';
import { z } from 'zod';
import { DEFAULT_KUBERNETES_JWT_PATH, VaultConfig, VaultSecretsPluginConfig } from './config';

// The zod schema of VaultSecretsPluginConfig; the fields are documented there. No exported
// declaration imports this module, so the package's types never load zod's (which need
// esModuleInterop).

const MOUNT = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const mount = (fallback: string) => z.string().regex(MOUNT, 'must be a mount path such as "secret" or "team/kv", without leading or trailing "/"').default(fallback);
const maskedString = () => z.string().min(1).transform((value) => new Masked(value));

const tokenAuth = z.strictObject({
  method: z.literal('token'),
  token: maskedString(),
});

const appRoleAuth = z.strictObject({
  method: z.literal('approle'),
  roleId: maskedString(),
  secretId: maskedString(),
  mount: mount('approle'),
});

const kubernetesAuth = z.strictObject({
  method: z.literal('kubernetes'),
  role: z.string().min(1),
  jwtPath: z.string().min(1).default(DEFAULT_KUBERNETES_JWT_PATH),
  mount: mount('kubernetes'),
});

/** The strict schema of a {@link VaultSecretsPluginConfig}, parsing into a {@link VaultConfig}. */
export const vaultConfigSchema = z.strictObject({
  address: z.url({ protocol: /^https?$/ }).refine((value) => {
    // zod runs refinements after a failed format check too; that failure is reported already.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not hold credentials; configure them under auth'),
  namespace: z.string().regex(MOUNT, 'must be a namespace path such as "team-a" or "org/team-a"').optional(),
  mount: mount('secret'),
  auth: z.discriminatedUnion('method', [tokenAuth, appRoleAuth, kubernetesAuth]),
  requestTimeoutMs: z.number().int().min(1).max(120_000).default(5_000),
  caCertFile: z.string().min(1).optional(),
  listLimit: z.number().int().min(1).max(100_000).default(1_000),
  casRetries: z.number().int().min(0).max(20).default(10),
});

// Compile-time proof that the schema reads exactly the documented configuration and gives exactly
// the documented result.
const documented: [
  input: SameShape<z.input<typeof vaultConfigSchema>, VaultSecretsPluginConfig>,
  output: SameShape<z.output<typeof vaultConfigSchema>, VaultConfig>,
] = [true, true];
void documented;
