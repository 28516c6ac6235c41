import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';

const PUBLIC_DIR = new URL('../../../public/', import.meta.url);
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

/**
 * `GET /` and its assets: the self-contained demo page in public/ (no CDN). Files are read once
 * at start and served from memory.
 */
export function registerDemoPage(app: TemplatedApp, logger: Logger): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of ['index.html', 'app.js', 'face.js', 'style.css']) {
    const url = new URL(name, PUBLIC_DIR);
    if (!existsSync(url)) continue;
    files.set(name, { body: readFileSync(url), type: TYPES[name.split('.').pop()!] ?? 'application/octet-stream' });
  }
  if (!files.has('index.html')) {
    logger.warn('public/index.html missing: no demo page at GET /');
    return;
  }
  const serve = (name: string) => app.get(name === 'index.html' ? '/' : `/${name}`, (res) => {
    const f = files.get(name)!;
    res.cork(() => res.writeHeader('content-type', f.type).writeHeader('cache-control', 'no-cache').end(f.body));
  });
  for (const name of files.keys()) serve(name);
}
