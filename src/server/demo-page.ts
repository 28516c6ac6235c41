import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';
import { getRoute } from './http-routes.js';

const PUBLIC_DIR = new URL('../../../public/', import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};

/**
 * `GET /` and its assets: the self-contained demo page in public/ (no CDN, no build step).
 * Every file of a known type directly in public/ is read once at start and served from memory,
 * so adding a module to the page needs no change here. Subfolders are not served: the page is
 * flat on purpose, and nothing outside public/ can be reached by a crafted path.
 */
export function registerDemoPage(app: TemplatedApp, logger: Logger): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  const names = existsSync(PUBLIC_DIR) ? readdirSync(PUBLIC_DIR, { withFileTypes: true }) : [];
  for (const entry of names) {
    const type = CONTENT_TYPES[entry.name.split('.').pop() ?? ''];
    if (!entry.isFile() || !type || !/^[\w.-]+$/.test(entry.name)) continue;
    files.set(entry.name, { body: readFileSync(new URL(entry.name, PUBLIC_DIR)), type });
  }
  if (!files.has('index.html')) {
    logger.warn('public/index.html missing: no demo page at GET /');
    return;
  }
  for (const [name, file] of files) {
    getRoute(app, name === 'index.html' ? '/' : `/${name}`, (res) => {
      res.cork(() => {
        res.writeHeader('content-type', file.type)
          .writeHeader('cache-control', 'no-cache')
          .writeHeader('x-content-type-options', 'nosniff')
          .end(file.body);
      });
    });
  }
}
