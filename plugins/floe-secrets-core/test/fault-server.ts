/**
 * A LOCAL FAULT SERVER for the plugins' fault tests: a node:http(s) server on 127.0.0.1 (random
 * port) that answers every request with the fault it is set to, and records what it received, so a
 * test can prove that no credential or value reached it.
 *
 * Faults: `refused` (nothing listens: the port is closed), `hang` (accepts, never answers),
 * `drip` (headers, then one body byte every 300 ms), `reset` (headers and half a body, then the
 * connection is destroyed), `status` (any status, body, content type and headers: 500, 502, 503
 * with Retry-After, 429, 401, 403, an HTML 404, malformed JSON, a JSON answer of the wrong shape),
 * `redirect` (301, 302, 307 or 308, e.g. to another origin). With `tls: true` it serves https with
 * {@link localCertificate}, which a client must refuse unless it trusts it: {@link writeKubeconfig}
 * writes a kubeconfig that does, so the same server stands in for a misbehaving Kubernetes
 * apiserver ({@link json} and {@link status} make its answers).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the server does with the next requests. */
export type Fault =
  /** Accepts the request and never answers. */
  | { readonly kind: 'hang' }
  /** 200 headers and `body` (default: none), then one space every 300 ms, never ending. */
  | { readonly kind: 'drip'; readonly body?: string }
  /** 200 headers and the start of a body (`body`, default a Vault-like one), then the connection is destroyed. */
  | { readonly kind: 'reset'; readonly body?: string }
  /** A redirect to `to`. */
  | { readonly kind: 'redirect'; readonly status: 301 | 302 | 307 | 308; readonly to: string }
  /** Any status, body, content type and headers. */
  | {
    readonly kind: 'status';
    readonly status: number;
    readonly body?: string;
    readonly contentType?: string;
    readonly headers?: { readonly [name: string]: string };
  };

/** One request as received: everything, so tests can search it for leaked values. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  readonly body: string;
}

/** The standard faults of the fault matrix, by name. */
export function standardFaults(redirectTo: string): { readonly [name: string]: Fault } {
  return {
    'no answer': { kind: 'hang' },
    'slow drip': { kind: 'drip' },
    'reset mid-body': { kind: 'reset' },
    '500': { kind: 'status', status: 500, body: '{"message":"Something went wrong"}', contentType: 'application/json' },
    '502': { kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' },
    '503 with Retry-After': { kind: 'status', status: 503, body: '{"errors":["Vault is sealed"]}', contentType: 'application/json', headers: { 'retry-after': '1' } },
    '429': { kind: 'status', status: 429, body: '{"message":"Too many requests"}', contentType: 'application/json', headers: { 'retry-after': '1' } },
    '401': { kind: 'status', status: 401, body: '{"errors":["permission denied"],"message":"unauthorized"}', contentType: 'application/json' },
    '403': { kind: 'status', status: 403, body: '{"errors":["permission denied"],"message":"forbidden"}', contentType: 'application/json' },
    'HTML 404': { kind: 'status', status: 404, body: '<html><head><title>404 Not Found</title></head><body>nginx</body></html>', contentType: 'text/html' },
    'malformed JSON': { kind: 'status', status: 200, body: '{"data": {"data": ', contentType: 'application/json' },
    'wrong shape': { kind: 'status', status: 200, body: '{"unexpected":[1,2,3]}', contentType: 'application/json' },
    'cross-origin 301': { kind: 'redirect', status: 301, to: redirectTo },
    'cross-origin 307': { kind: 'redirect', status: 307, to: redirectTo },
  };
}

/** A JSON answer. */
export function json(code: number, body: unknown, headers: { readonly [name: string]: string } = {}): Fault {
  return { kind: 'status', status: code, body: JSON.stringify(body), contentType: 'application/json', headers };
}

/** A Kubernetes apiserver's own Status answer, e.g. `status(404, 'NotFound', { kind: 'secrets', name: 'db' })`. */
export function status(code: number, reason: string, details: { readonly kind?: string; readonly name?: string } = {}): Fault {
  return json(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: reason, reason, details, code });
}

export class FaultServer {
  /**
   * Starts a server on 127.0.0.1 answering `fault` (default: a 200 `{}`); `tls` serves https with
   * {@link localCertificate}.
   */
  public static async start(options: { readonly tls?: boolean; readonly fault?: Fault } = {}): Promise<FaultServer> {
    const server = new FaultServer(options.tls === true);
    if (options.fault) server.fault = options.fault;
    await new Promise<void>((done) => server.server.listen(0, '127.0.0.1', done));
    return server;
  }

  /** An address on 127.0.0.1 where nothing listens (a port opened and closed again); `tls`: an https one. */
  public static async refusedAddress(options: { readonly tls?: boolean } = {}): Promise<string> {
    const probe = createHttpServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((done) => probe.close(() => done()));
    return `${options.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Every request received, oldest first. */
  public readonly received: ReceivedRequest[] = [];
  /** Faults for the next requests, one each, before {@link FaultServer.fault} applies again. */
  public readonly next: Fault[] = [];
  /** The fault answered; change it between calls. */
  public fault: Fault = { kind: 'status', status: 200, body: '{}', contentType: 'application/json' };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly tls: boolean) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    if (tls) {
      const { key, cert } = localCertificate();
      this.server = createHttpsServer({ key, cert }, handler);
    } else {
      this.server = createHttpServer(handler);
    }
    this.server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.track(socket));
    if (tls) this.server.on('connection', (socket: Socket) => this.track(socket));
  }

  /** `http://127.0.0.1:<port>` (or https). */
  public get address(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Everything received, as one string to search for leaked values. */
  public transcript(): string {
    return this.received.map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`).join('\n');
  }

  /** Ends every connection and the server. */
  public async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(chunks).toString('utf8') });
      this.answer(res);
    });
  }

  private answer(res: ServerResponse): void {
    const fault = this.next.shift() ?? this.fault;
    switch (fault.kind) {
      case 'hang':
        return;
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (fault.body) res.write(fault.body);
        const timer = setInterval(() => res.write(' '), 300);
        this.timers.add(timer);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'reset': {
        const body = fault.body ?? '{"data": {"data": {"k": "';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * body.length + 100) });
        res.write(body);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      case 'redirect':
        res.writeHead(fault.status, { location: fault.to });
        res.end();
        return;
      case 'status':
        res.writeHead(fault.status, { ...(fault.contentType ? { 'content-type': fault.contentType } : {}), ...fault.headers });
        res.end(fault.body ?? '');
    }
  }
}

let certificate: { readonly key: string; readonly cert: string } | undefined;

/** A self-signed certificate for 127.0.0.1 (EC P-256), made once per test process with openssl. */
export function localCertificate(): { readonly key: string; readonly cert: string } {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'floe-fault-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    certificate = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes a kubeconfig in `dir` for the apiserver at `server` with a bearer `token`, trusting
 * {@link localCertificate} unless `trust` is false; returns its path.
 */
export function writeKubeconfig(dir: string, server: string, token: string, trust = true): string {
  const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, JSON.stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'clusters': [{
      name: 'faulty',
      cluster: { server, ...(trust ? { 'certificate-authority-data': Buffer.from(localCertificate().cert).toString('base64') } : {}) },
    }],
    'users': [{ name: 'faulty-user', user: { token } }],
    'contexts': [{ name: 'faulty', context: { cluster: 'faulty', user: 'faulty-user' } }],
    'current-context': 'faulty',
  }), { mode: 0o600 });
  return file;
}
