import { secretEnvFromSpec, secretEnvSpec, secretMountsSpec, SecretReference } from 'floe-secrets';

// { envFrom: [{ secretRef: { name: 'snowflake-credentials' } }] }
export const envFrom = secretEnvFromSpec('snowflake-credentials');

// { env: [{ name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }] }
export const env = secretEnvSpec({ DATABASE_PASSWORD: SecretReference.fromNames('db-creds', 'password') });

// { volumes: [...secret google-sa, items key.json, defaultMode 0o400],
//   volumeMounts: [{ name: 'secret-google-sa', mountPath: '/run/secrets/google-sa', readOnly: true }] }
export const files = secretMountsSpec('google-sa', { keys: ['key.json'] });
