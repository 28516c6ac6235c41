import t from 'tap';
import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { KnowledgeBaseError, htmlToText, loadKnowledgeBase } from './knowledge-base.js';

const dir = await mkdtemp(join(tmpdir(), 'kb-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** A local server: `/slow` never answers, `/big` streams without content-length. */
async function startServer(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/faq.txt') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('# Shipping\n\nWe ship worldwide within 5 days.\n');
    } else if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><style>p{}</style><script>var x = 1;</script></head><body><h1>Hours</h1><p>Open 9&nbsp;to 5 &amp; closed Sundays.</p></body></html>');
    } else if (req.url === '/slow') {
      // Sends nothing: the loader's timeout must fire.
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(4096));
      res.end('x'.repeat(4096));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const { server, base } = await startServer();
t.teardown(() => {
  server.closeAllConnections();
  server.close();
});

t.test('blank source means no knowledge base', async (t) => {
  t.equal(await loadKnowledgeBase(''), '');
  t.equal(await loadKnowledgeBase('   '), '');
});

t.test('file path, relative or absolute, and file: URL', async (t) => {
  const path = join(dir, 'kb.md');
  await writeFile(path, '\uFEFF# Returns\r\n\r\nItems can be returned within 30 days.\r\n');
  const text = await loadKnowledgeBase(path);
  t.equal(text, '# Returns\n\nItems can be returned within 30 days.', 'BOM and CRLF normalised');
  t.equal(await loadKnowledgeBase(pathToFileURL(path).href), text);
  t.equal(await loadKnowledgeBase(`  ${path}  `), text, 'surrounding spaces ignored');
});

t.test('HTML file is reduced to text', async (t) => {
  const path = join(dir, 'page.html');
  await writeFile(path, '<p>One</p><p>Two &lt;3&gt;</p>');
  t.equal(await loadKnowledgeBase(path), 'One\n\nTwo <3>');
});

t.test('http URL', async (t) => {
  t.equal(await loadKnowledgeBase(`${base}/faq.txt`), '# Shipping\n\nWe ship worldwide within 5 days.');
  const html = await loadKnowledgeBase(`${base}/page.html`);
  t.match(html, /Hours\n\nOpen 9 to 5 & closed Sundays\./);
  t.notMatch(html, /var x|p\{\}/, 'scripts and styles dropped');
});

t.test('bad sources fail with a clear error naming the source', async (t) => {
  const missing = join(dir, 'missing.txt');
  await t.rejects(loadKnowledgeBase(missing), { name: 'KnowledgeBaseError', message: `cannot load the knowledge base from "${missing}": no such file` });
  await t.rejects(loadKnowledgeBase(dir), { message: /is not a regular file/ });
  await t.rejects(loadKnowledgeBase(`${base}/nothing-here`), { message: /HTTP 404/ });
  await t.rejects(loadKnowledgeBase('ftp://example.com/kb.txt'), { message: /unsupported URL scheme/ });
  const empty = join(dir, 'empty.txt');
  await writeFile(empty, ' \n\n ');
  await t.rejects(loadKnowledgeBase(empty), { message: /the source is empty/ });
  // A port that was just freed: a refused connection, not a hang.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const freePort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await t.rejects(loadKnowledgeBase(`http://127.0.0.1:${freePort}/kb.txt`), { message: /fetch failed \(ECONNREFUSED\)/ });
  const err = await loadKnowledgeBase(missing).catch((e: unknown) => e);
  t.ok(err instanceof KnowledgeBaseError);
  t.equal((err as KnowledgeBaseError).source, missing);
});

t.test('timeout', async (t) => {
  // `/slow` never answers: the rejection with this message is the proof that the load gave up.
  await t.rejects(loadKnowledgeBase(`${base}/slow`, { timeoutMs: 200 }), { message: /timed out after 200 ms/ });
});

t.test('size limit, declared or streamed', async (t) => {
  await t.rejects(loadKnowledgeBase(`${base}/big`, { maxBytes: 5000 }), { message: /more than the limit of 5000 bytes/ });
  t.equal((await loadKnowledgeBase(`${base}/big`, { maxBytes: 10_000 })).length, 8192);
  const path = join(dir, 'big.txt');
  await writeFile(path, 'y'.repeat(2000));
  await t.rejects(loadKnowledgeBase(path, { maxBytes: 1000 }), { message: /2000 bytes, more than the limit of 1000/ });
});

t.test('htmlToText entities', async (t) => {
  t.equal(htmlToText('a&#65;&#x42;&unknown;b'), 'aAB&unknown;b');
});
