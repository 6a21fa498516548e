import { AuditLogger, FileAuditSink, JsonLinesAuditSink, loadSecretsPlugin } from '@floe-secrets/core';

export async function checkConnection(): Promise<void> {
  // Found by name among the installed packages; the caller imports no backend.
  const secrets = loadSecretsPlugin('k8s', { namespace: 'floe-sales' }, {
    audit: new AuditLogger([new JsonLinesAuditSink(), new FileAuditSink({ directory: '/var/log/floe-audit' })]),
  });

  const health = await secrets.healthCheck(); // within 5 s, never throws
  if (health.state !== 'healthy') throw new Error(`secrets backend: ${health.message}`);

  const password = await secrets.getSecret('snowflake-credentials/password'); // undefined when missing
  if (password === undefined) throw new Error('snowflake-credentials has no key password in floe-sales');
}
