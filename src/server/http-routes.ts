import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp } from 'uWebSockets.js';

/**
 * HTTP route registration shared by every REST route, so each gets the same request checks:
 * - `HEAD` is answered wherever `GET` is (same status and headers, the body's length, no body);
 *   uWS routes HEAD separately and would otherwise answer 404.
 * - A request with conflicting `Content-Length` headers is refused with 400 and the connection is
 *   closed: uWS frames the body by the first one, a proxy in front might use another (request
 *   smuggling). uWS itself already drops a comma list or Content-Length with Transfer-Encoding.
 *   uWS 20.30 keeps parsing the bytes it has already read after such an answer, and a response
 *   object cannot be touched once ended, so a request pipelined behind the refused one would be
 *   served: requests from the refused request's address that uWS hands over before the event loop
 *   moves on (the rest of that read) get the same 400 and close. Behind a proxy that itself
 *   refuses conflicting lengths (HAProxy does) this never triggers.
 */
export type RouteHandler = (res: HttpResponse, req: HttpRequest) => void;

export function getRoute(app: TemplatedApp, pattern: string, handler: RouteHandler): void {
  app.get(pattern, checked(handler));
  app.head(pattern, checked((res, req) => handler(withoutBody(res), req)));
}

export function postRoute(app: TemplatedApp, pattern: string, handler: RouteHandler): void {
  app.post(pattern, checked(handler));
}

export function anyRoute(app: TemplatedApp, pattern: string, handler: RouteHandler): void {
  app.any(pattern, checked(handler));
}

export function optionsRoute(app: TemplatedApp, pattern: string, handler: RouteHandler): void {
  app.options(pattern, checked(handler));
}

/** A JSON answer; CORS headers only for an origin the caller has already checked. */
export function json(res: HttpResponse, status: string, body: unknown, allowedOrigin?: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json');
    if (allowedOrigin) res.writeHeader('access-control-allow-origin', allowedOrigin).writeHeader('vary', 'Origin');
    res.end(JSON.stringify(body));
  });
}

/** Why the request's framing headers are unacceptable, or null. */
export function framingProblem(req: HttpRequest): string | null {
  let length: string | null = null;
  let problem: string | null = null;
  req.forEach((key, value) => {
    if (key !== 'content-length') return;
    if (length !== null && value.trim() !== length) problem = 'conflicting Content-Length headers';
    length = value.trim();
  });
  return problem;
}

/** Addresses that sent a refused request during the current pass of the event loop. */
let refusedThisTurn: Set<string> | null = null;

function refuse(res: HttpResponse, problem: string): void {
  const address = Buffer.from(res.getRemoteAddressAsText()).toString();
  if (!refusedThisTurn) {
    refusedThisTurn = new Set();
    setImmediate(() => {
      refusedThisTurn = null;
    });
  }
  refusedThisTurn.add(address);
  res.cork(() => {
    // end(body, closeConnection): the rest of the stream cannot be parsed safely.
    res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json').end(JSON.stringify({ error: problem }), true);
  });
}

function checked(handler: RouteHandler): RouteHandler {
  return (res, req) => {
    const problem = framingProblem(req)
      ?? (refusedThisTurn?.has(Buffer.from(res.getRemoteAddressAsText()).toString()) ? 'request pipelined behind a refused one' : null);
    if (problem === null) return handler(res, req);
    refuse(res, problem);
  };
}

/**
 * The response of a HEAD request, seen by a GET handler: `end(body)` sends the headers with the
 * body's length and no body. Everything else is the real response.
 */
function withoutBody(res: HttpResponse): HttpResponse {
  // uWS requires an abort handler before an asynchronous or body-less answer.
  res.onAborted(() => {});
  const view: HttpResponse = new Proxy(res, {
    get(target, prop) {
      if (prop === 'end') {
        return (body?: RecognizedString) => {
          // uWS 20.30's endWithoutBody(length) — any argument, even undefined — leaves the
          // response open and a pipelined request then kills the connection: write the length
          // ourselves and end with no argument. (No GET handler asks to close the connection.)
          target.writeHeader('content-length', String(byteLength(body))).endWithoutBody();
          return view;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result === target ? view : result;
      };
    },
  });
  return view;
}

function byteLength(body: RecognizedString | undefined): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}
