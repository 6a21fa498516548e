import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the server answers. */
export type Fault =
  /** Accepts the request and never answers. */
  | { readonly kind: 'hang' }
  /** 200 headers, then one byte every 300 ms, never ending. */
  | { readonly kind: 'drip' }
  /** 200 headers and half a body, then the connection is destroyed. */
  | { readonly kind: 'reset' }
  /** A redirect to `to`. */
  | { readonly kind: 'redirect'; readonly status: 301 | 302 | 307 | 308; readonly to: string }
  /** Any status, body, content type and headers. */
  | { readonly kind: 'answer'; readonly status: number; readonly body?: string; readonly contentType?: string; readonly headers?: { readonly [name: string]: string } };

/** One request as received: everything, so a test can search it for credentials and values. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  readonly body: string;
}

/** A JSON answer. */
export function json(code: number, body: unknown, headers: { readonly [name: string]: string } = {}): Fault {
  return { kind: 'answer', status: code, body: JSON.stringify(body), contentType: 'application/json', headers };
}

/** The apiserver's own Status answer, e.g. `status(404, 'NotFound', { kind: 'secrets', name: 'db' })`. */
export function status(code: number, reason: string, details: { readonly kind?: string; readonly name?: string } = {}): Fault {
  return json(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${reason}`, reason, details, code });
}

let certificate: { readonly key: string; readonly cert: string } | undefined;

/** A certificate for 127.0.0.1 (self-signed, made once per test process with openssl). */
export function localCertificate(): { readonly key: string; readonly cert: string } {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'floe-k8s-fault-tls-'));
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
 * A local stand-in for an apiserver that misbehaves: https on 127.0.0.1 (random port) with
 * {@link localCertificate}, answering each request with the next queued fault or else the
 * standing one, and recording every request it received.
 */
export class FaultServer {
  /** Starts a server. */
  public static async start(fault: Fault = json(200, {})): Promise<FaultServer> {
    const server = new FaultServer(fault);
    await new Promise<void>((done) => server.server.listen(0, '127.0.0.1', done));
    return server;
  }

  /** An https URL on 127.0.0.1 where nothing listens (a port opened and closed again). */
  public static async refusedUrl(): Promise<string> {
    const probe = createHttpServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((done) => probe.close(() => done()));
    return `https://127.0.0.1:${port}`;
  }

  /** Every request received, oldest first. */
  public readonly received: ReceivedRequest[] = [];
  /** Faults for the next requests, one each, before {@link FaultServer.fault} applies again. */
  public readonly next: Fault[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(public fault: Fault) {
    this.server = createHttpsServer(localCertificate(), (req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `https://127.0.0.1:<port>`. */
  public get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Everything received, as one string to search. */
  public transcript(): string {
    return this.received.map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`).join('\n');
  }

  /** Ends every connection and the server. */
  public async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(chunks).toString('utf8') });
      this.answer(res, this.next.shift() ?? this.fault);
    });
  }

  private answer(res: ServerResponse, fault: Fault): void {
    switch (fault.kind) {
      case 'hang':
        return;
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"kind":"Secret","data":{');
        const timer = setInterval(() => res.write(' '), 300);
        this.timers.add(timer);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"kind":"Secret","data":{"k":"');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case 'redirect':
        res.writeHead(fault.status, { location: fault.to });
        res.end();
        return;
      case 'answer':
        res.writeHead(fault.status, { ...(fault.contentType ? { 'content-type': fault.contentType } : {}), ...fault.headers });
        res.end(fault.body ?? '');
    }
  }
}

/** Writes a kubeconfig for `server` with a bearer `token`, trusting {@link localCertificate} unless `trust` is false. */
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
