import * as http from 'node:http';
import * as https from 'node:https';

/**
 * Whether anything answers HTTP at `url` within `timeoutMs` (any status counts: this is about the
 * address, not the credentials). The connection is closed on timeout, so that a backend that never
 * answers cannot keep the process alive after the check. Resolves to the reason when it does not answer.
 */
export async function unreachableReason(url: string, timeoutMs = 4_500): Promise<string | undefined> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise<string | undefined>((done) => {
    const req = (target.protocol === 'http:' ? http : https).request(target, { method: 'GET', agent: false, signal }, (res) => {
      res.resume();
      req.destroy();
      done(undefined);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      done(signal.aborted ? `no answer within ${timeoutMs / 1000} s` : `connection failed (${error.code ?? error.name})`);
    });
    req.end();
  });
}
