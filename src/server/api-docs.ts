import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { getRoute } from './http-routes.js';

/**
 * `/openapi.json`, `/docs` (Swagger UI) and `/redoc` (ReDoc), served from their npm packages —
 * no CDN, so the docs work offline on a kiosk too. Assets are read once at start.
 */
const require = createRequire(import.meta.url);

function asset(pkg: string, file: string): Buffer {
  return readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));
}

const page = (title: string, head: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="viewport" content="width=device-width, initial-scale=1">${head}</head><body style="margin:0">${body}</body></html>`;

export function registerApiDocs(app: TemplatedApp, openApi: Record<string, unknown>): void {
  const spec = JSON.stringify(openApi);
  const files: Record<string, [Buffer | string, string]> = {
    '/openapi.json': [spec, 'application/json'],
    '/docs': [page('API — Swagger UI', '<link rel="stylesheet" href="/docs/swagger-ui.css">',
      '<div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script>'), 'text/html; charset=utf-8'],
    '/docs/init.js': ["window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });", 'text/javascript'],
    '/docs/swagger-ui.css': [asset('swagger-ui-dist', 'swagger-ui.css'), 'text/css'],
    '/docs/swagger-ui-bundle.js': [asset('swagger-ui-dist', 'swagger-ui-bundle.js'), 'text/javascript'],
    '/redoc': [page('API — ReDoc', '', '<redoc spec-url="/openapi.json"></redoc><script src="/redoc/redoc.standalone.js"></script>'), 'text/html; charset=utf-8'],
    '/redoc/redoc.standalone.js': [asset('redoc', 'bundles/redoc.standalone.js'), 'text/javascript'],
  };
  for (const [route, [body, type]] of Object.entries(files)) {
    getRoute(app, route, (res) => {
      res.cork(() => res.writeHeader('content-type', type).end(body));
    });
  }
}
