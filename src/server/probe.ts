import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TemplatedApp } from 'uWebSockets.js';
import { getRoute, json } from './http-routes.js';
import type { ProbeAnswer, Readiness } from './readiness.js';

const STATUS_TEXT = { 200: '200 OK', 503: '503 Service Unavailable' } as const;

/** `/health` and `/ready` on the main port (uWS: HTTP/1.1 with `Host` only). */
export function registerProbeRoutes(app: TemplatedApp, readiness: Readiness): void {
  for (const path of ['/health', '/ready']) {
    getRoute(app, path, (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void readiness.answer(path)!.then((a) => {
        if (!aborted) json(res, STATUS_TEXT[a.status], a.body);
      });
    });
  }
}

export interface ProbeListener {
  port: number;
  close(): Promise<void>;
}

/**
 * The probe listener (PROBE_PORT): the same `/health` and `/ready` on a second port, served by
 * node:http so that health checks sending HTTP/1.0 or no `Host` header (HAProxy's stock
 * `option httpchk GET /ready`) get an answer; uWS 20.30's parser gives them none. Socket I/O
 * only, a few requests a second; every other path is 404, every other method 405.
 */
export function startProbeListener(readiness: Readiness, host: string, port: number): Promise<ProbeListener> {
  const server = createServer({ requireHostHeader: false }, (req, res) => void serve(readiness, req, res));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

async function serve(readiness: Readiness, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, { status: 405, body: { error: 'method not allowed' } });
  const answer = readiness.answer(path);
  send(req, res, answer ? await answer : { status: 404, body: { error: 'not found' } });
}

function send(req: IncomingMessage, res: ServerResponse, a: ProbeAnswer | { status: 404 | 405; body: Record<string, unknown> }): void {
  if (res.destroyed) return;
  const body = JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(a.status === 405 && { allow: 'GET, HEAD' }) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
