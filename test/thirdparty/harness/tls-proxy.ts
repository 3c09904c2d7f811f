/**
 * The TLS front of the sandbox under the real names: an HTTPS server (our test certificate) that forwards every
 * request to the sandbox unchanged — method, path, headers including the original `Host` — adding
 * `X-Forwarded-Proto: https`, and streams the answer back with its raw headers (repeated Set-Cookie and the doubled
 * jslogin Content-Type kept). This is what a TLS-terminating reverse proxy in front of the sandbox does.
 */
import { createServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  host: string;
  /** Path and query as sent. */
  url: string;
  /** The sandbox's HTTP status (0 until it answered). */
  status: number;
}

export interface TlsProxy {
  port: number;
  /** Requests forwarded so far, in arrival order (for assertions and failure messages). */
  requests: ProxiedRequest[];
  /** `METHOD host/path?query` of each request. */
  lines(): string[];
  close(): Promise<void>;
}

export async function startTlsProxy(opts: { key: string; cert: string; targetPort: number; targetHost?: string }): Promise<TlsProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: opts.key, cert: opts.cert }, (req, res) => {
    const entry: ProxiedRequest = { method: req.method ?? '', host: req.headers.host ?? '', url: req.url ?? '', status: 0 };
    requests.push(entry);
    const headers = { ...req.headers, 'x-forwarded-proto': 'https' };
    const up = httpRequest(
      { host: opts.targetHost ?? '127.0.0.1', port: opts.targetPort, method: req.method, path: req.url, headers },
      (upRes) => {
        entry.status = upRes.statusCode ?? 502;
        res.writeHead(entry.status, upRes.statusMessage, upRes.rawHeaders);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    lines: () => requests.map((r) => `${r.method} ${r.host}${r.url}`),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
