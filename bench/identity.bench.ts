/**
 * Identity plugin latency (issue 6): KeycloakIdentityPlugin.validateToken warm (keys cached) and
 * cold (a fresh plugin: OIDC discovery and JWKS fetch from the local provider, key import, verify),
 * and healthCheck against an address that never answers. The provider is oidc-provider on
 * 127.0.0.1 (see plugins/floe-identity-keycloak/test/oidc-test-server.ts); tokens are its own
 * client-credentials JWT access tokens (RS256, 2048-bit key). Run by `npm run bench`.
 */
import { AuditLogger, silentServer } from '@floe-secrets/core';
import { KeycloakIdentityPlugin } from '../plugins/floe-identity-keycloak/src';
import { AUDIENCE, OidcTestServer } from '../plugins/floe-identity-keycloak/test/oidc-test-server';

const RUNS = 5;
const WARM_CALLS = 10_000;
const COLD_STARTS = 50;
const rows: string[] = [];

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const median = (values: number[]): number => percentile(values, 50);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

let idp: OidcTestServer;
beforeAll(async () => {
  idp = await OidcTestServer.start(['sales']);
});
afterAll(async () => {
  await idp.close();
  process.stdout.write(['', '| measurement | calls | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|', ...rows, ''].join('\n'));
});

const config = () => ({ serverUrl: idp.url, realms: ['sales'], audience: AUDIENCE });

async function warm(label: string, options: object): Promise<void> {
  const token = await idp.accessToken('sales');
  const p50s: number[] = [];
  const p99s: number[] = [];
  const maxes: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const plugin = new KeycloakIdentityPlugin(config(), options);
    for (let i = 0; i < 200; i++) await plugin.validateToken(token); // first fetch, JIT warm-up
    const samples: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) samples.push(await timed(() => plugin.validateToken(token)));
    p50s.push(percentile(samples, 50));
    p99s.push(percentile(samples, 99));
    maxes.push(Math.max(...samples));
  }
  rows.push(`| ${label} (median of ${RUNS} runs) | ${WARM_CALLS} x ${RUNS} | ${median(p50s).toFixed(3)} | ${median(p99s).toFixed(3)} | ${median(maxes).toFixed(3)} |`);
}

test('warm validateToken: keys cached, no request', async () => {
  await warm('validateToken, warm', {});
  const lines: string[] = [];
  await warm('validateToken, warm, audit log to a JSON-lines sink', { audit: new AuditLogger([{ write: (e) => lines.push(JSON.stringify(e)) }]) });
}, 300_000);

test('cold validateToken: a fresh plugin fetches discovery and JWKS from the local provider', async () => {
  const token = await idp.accessToken('sales');
  await new KeycloakIdentityPlugin(config()).validateToken(token); // module and JIT warm-up, not counted
  const samples: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const plugin = new KeycloakIdentityPlugin(config());
    samples.push(await timed(() => plugin.validateToken(token)));
  }
  rows.push(`| validateToken, cold (discovery + JWKS fetch + verify) | ${COLD_STARTS} | ${percentile(samples, 50).toFixed(3)} | ${percentile(samples, 99).toFixed(3)} | ${Math.max(...samples).toFixed(3)} |`);
}, 120_000);

test('healthCheck against an address that never answers', async () => {
  const silent = await silentServer();
  try {
    const plugin = new KeycloakIdentityPlugin({ ...config(), serverUrl: `http://${silent.address}`, requestTimeoutMs: 30_000 });
    const ms = await timed(async () => expect(await plugin.healthCheck()).toMatchObject({ state: 'unhealthy' }));
    rows.push(`| healthCheck, address never answers | 1 | ${ms.toFixed(0)} | | |`);
  } finally {
    await silent.close();
  }
}, 30_000);
