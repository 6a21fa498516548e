import { SameShape } from '@floe-secrets/core';
import { z } from 'zod';
import { K8sSecretsConfig } from './config';

// The zod schema of K8sSecretsConfig. No exported declaration imports this module, so the package's
// types never load zod's (which need esModuleInterop).

/** Where the plugin finds the cluster; see {@link K8sSecretsConfig} for each field. */
export const configSchema = z.strictObject({
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63).default('floe-jobs'),
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
});

// Compile-time proof that the schema reads exactly the documented configuration.
const documented: SameShape<z.input<typeof configSchema>, K8sSecretsConfig> = true;
void documented;
