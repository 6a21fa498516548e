import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const APISERVER_SCRIPT = resolve(__dirname, '../../scripts/kube-apiserver.sh');
const NODE_SCRIPT = resolve(__dirname, '../../scripts/kube-cluster.sh');

/** Result of a command. */
export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A real kube-apiserver + etcd on loopback, started by scripts/kube-apiserver.sh with RBAC and
 * static token auth; or, with {@link TestCluster.startNode}, a whole single-node cluster that runs
 * real pods (scripts/kube-cluster.sh). Start fails loudly (never skips) when it cannot come up.
 */
export class TestCluster {
  /** Starts a fresh apiserver in a temporary directory. */
  public static start(): TestCluster {
    return TestCluster.startWith(APISERVER_SCRIPT, 120_000, 'run `bash scripts/kube-apiserver.sh provision` (the test task does it first)');
  }

  /**
   * Starts a fresh single-node cluster (apiserver, controller-manager, scheduler, containerd,
   * kubelet, in a network namespace of its own) and returns once its node is Ready.
   */
  public static startNode(): TestCluster {
    return TestCluster.startWith(NODE_SCRIPT, 300_000, 'run `bash scripts/kube-cluster.sh provision` (the test task does it first) and read the logs the error names');
  }

  private static startWith(script: string, timeout: number, fix: string): TestCluster {
    const dir = mkdtempSync(join(tmpdir(), 'floe-kube-'));
    const result = spawnSync('bash', [script, 'start', dir], { encoding: 'utf8', timeout });
    if (result.status !== 0) {
      const logs = spawnSync('bash', ['-c', `tail -n 20 ${dir}/*.log 2>/dev/null`], { encoding: 'utf8' }).stdout;
      spawnSync('bash', [script, 'stop', dir], { timeout: 180_000 });
      throw new Error(`could not start the test cluster with ${script} (exit ${result.status ?? result.signal}): ${result.stderr.trim()}
${logs}
${fix}`);
    }
    return new TestCluster(dir, script);
  }

  /** The API server URL. */
  public readonly url: string;
  /** What the start script wrote into DIR/env (URL, kubectl, and for a node: netns, node, images). */
  public readonly env: { readonly [name: string]: string | undefined };
  private readonly kubectlPath: string;
  private readonly adminToken: string;
  private readonly ca: string;

  private constructor(public readonly dir: string, private readonly script: string) {
    const env = Object.fromEntries(
      readFileSync(join(dir, 'env'), 'utf8').trim().split('\n').map((line) => line.split('=', 2) as [string, string]),
    );
    this.env = env;
    this.url = env.FLOE_KUBE_URL;
    this.kubectlPath = env.FLOE_KUBECTL;
    this.adminToken = readFileSync(join(dir, 'tokens.csv'), 'utf8').split('\n')[0].split(',')[0];
    this.ca = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
  }

  /** Runs kubectl as the cluster admin (or with `--token` given in args). */
  public kubectl(args: string[], input?: string): Run {
    // --cache-dir: kubectl's discovery and HTTP cache of this cluster goes with it, not into ~/.kube/cache.
    const result = spawnSync(this.kubectlPath, ['--kubeconfig', join(this.dir, 'kubeconfig'), '--cache-dir', join(this.dir, 'kubectl-cache'), ...args], {
      encoding: 'utf8',
      input,
      timeout: 60_000,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs kubectl and fails with its stderr when it does not exit 0. */
  public kubectlOk(args: string[], input?: string): string {
    const run = this.kubectl(args, input);
    if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
    return run.stdout;
  }

  /** An HTTPS request to the API server, as the admin or with another bearer token. */
  public api(method: string, path: string, body?: unknown, token: string = this.adminToken): Promise<{ status: number; body: any }> {
    return new Promise((done, fail) => {
      const req = request(
        `${this.url}${path}`,
        {
          method,
          ca: this.ca,
          headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json', 'accept': 'application/json' },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            // Error replies are not always JSON (a plain-text 404 for an unknown group version).
            let parsed: any = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // keep the text
            }
            done({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', fail);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** Whether `user` may `verb` secrets (`name` given: that one) in `namespace`, by SubjectAccessReview. */
  public async canI(user: string, verb: string, namespace: string, name?: string): Promise<boolean> {
    const res = await this.api('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups: user.startsWith('system:serviceaccount:') ? ['system:serviceaccounts', `system:serviceaccounts:${user.split(':')[2]}`, 'system:authenticated'] : ['system:authenticated'],
        resourceAttributes: { verb, resource: 'secrets', namespace, name },
      },
    });
    if (res.status !== 201) throw new Error(`SubjectAccessReview failed with ${res.status}`);
    return res.body.status.allowed === true;
  }

  /** A real, short-lived token for a ServiceAccount, from the TokenRequest API. */
  public async serviceAccountToken(namespace: string, name: string): Promise<string> {
    const res = await this.api('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 600 },
    });
    if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name} failed with ${res.status}`);
    return res.body.status.token;
  }

  /** Stops the cluster and removes its directory. */
  public stop(): void {
    const result = spawnSync('bash', [this.script, 'stop', this.dir], { encoding: 'utf8', timeout: 240_000 });
    if (result.status !== 0) throw new Error(`stopping the test cluster failed (exit ${result.status ?? result.signal}): ${result.stderr.trim()}`);
  }
}
