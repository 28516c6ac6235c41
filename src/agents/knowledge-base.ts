import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Loads the text behind `KNOWLEDGE_BASE_SOURCE` once, at start. Agents get the text in
 * `AgentContext.knowledgeBase`; the offline agent answers from it, LLM agents put it in their
 * instructions. Loading is bounded (time and size) so a slow or huge source fails start-up with
 * a message that names the source instead of hanging or eating memory.
 */

export interface LoadKnowledgeBaseOptions {
  /** Whole load (connect, headers, body), ms. */
  timeoutMs?: number;
  /** Largest accepted source; a knowledge base is meant to be read aloud in snippets, not a corpus. */
  maxBytes?: number;
}

export const DEFAULT_KNOWLEDGE_BASE_TIMEOUT_MS = 10_000;
export const DEFAULT_KNOWLEDGE_BASE_MAX_BYTES = 5 * 1024 * 1024;

export class KnowledgeBaseError extends Error {
  constructor(readonly source: string, reason: string) {
    super(`cannot load the knowledge base from "${source}": ${reason}`);
    this.name = 'KnowledgeBaseError';
  }
}

/**
 * `source` is a file path, a `file:` URL or an `http(s):` URL. A blank source means "no
 * knowledge base" and gives ''. HTML (by content type or file extension) is reduced to its text.
 * Throws `KnowledgeBaseError` on anything else: missing file, HTTP error, timeout, too large, empty.
 */
export async function loadKnowledgeBase(source: string, opts: LoadKnowledgeBaseOptions = {}): Promise<string> {
  const trimmed = source.trim();
  if (trimmed === '') return '';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_KNOWLEDGE_BASE_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_KNOWLEDGE_BASE_MAX_BYTES;

  let loaded: { text: string; isHtml: boolean };
  if (/^https?:\/\//i.test(trimmed)) {
    loaded = await loadUrl(trimmed, timeoutMs, maxBytes);
  } else if (/^file:/i.test(trimmed)) {
    let path: string;
    try {
      path = fileURLToPath(trimmed);
    } catch (err) {
      throw new KnowledgeBaseError(trimmed, `not a valid file URL (${(err as Error).message})`);
    }
    loaded = await loadFile(trimmed, path, timeoutMs, maxBytes);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new KnowledgeBaseError(trimmed, 'unsupported URL scheme; use a file path or an http(s) URL');
  } else {
    loaded = await loadFile(trimmed, resolve(trimmed), timeoutMs, maxBytes);
  }

  const text = (loaded.isHtml ? htmlToText(loaded.text) : loaded.text).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trim();
  if (text === '') throw new KnowledgeBaseError(trimmed, 'the source is empty');
  return text;
}

async function loadFile(source: string, path: string, timeoutMs: number, maxBytes: number): Promise<{ text: string; isHtml: boolean }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new KnowledgeBaseError(source, `${path} is not a regular file`);
    if (info.size > maxBytes) throw new KnowledgeBaseError(source, `the file is ${info.size} bytes, more than the limit of ${maxBytes}`);
    const text = await readFile(path, { encoding: 'utf8', signal: AbortSignal.timeout(timeoutMs) });
    return { text, isHtml: /\.html?$/i.test(path) };
  } catch (err) {
    if (err instanceof KnowledgeBaseError) throw err;
    throw new KnowledgeBaseError(source, describeError(err, timeoutMs));
  }
}

async function loadUrl(url: string, timeoutMs: number, maxBytes: number): Promise<{ text: string; isHtml: boolean }> {
  // One signal for the whole exchange: a server that sends headers and then trickles the body
  // must not hold start-up for longer than the timeout either.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'text/plain, text/markdown, text/html;q=0.8, */*;q=0.5' } });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new KnowledgeBaseError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const declaredBytes = Number(res.headers.get('content-length') ?? NaN);
    if (declaredBytes > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new KnowledgeBaseError(url, `the response is ${declaredBytes} bytes, more than the limit of ${maxBytes}`);
    }
    const bytes = await readBounded(res, url, maxBytes);
    const contentType = res.headers.get('content-type') ?? '';
    return { text: new TextDecoder('utf-8').decode(bytes), isHtml: /html/i.test(contentType) };
  } catch (err) {
    if (err instanceof KnowledgeBaseError) throw err;
    throw new KnowledgeBaseError(url, describeError(err, timeoutMs));
  }
}

/** Reads the body, stopping as soon as it passes `maxBytes` (a missing or lying content-length). */
async function readBounded(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new KnowledgeBaseError(url, `the response is more than the limit of ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts, total);
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  if (e?.code === 'ENOENT') return 'no such file';
  if (e?.code === 'EACCES') return 'permission denied';
  // fetch wraps network failures as "fetch failed" with the useful part in `cause`.
  const cause = e?.cause;
  if (cause) return `${e.message ?? 'request failed'} (${cause.code ?? cause.message ?? 'unknown cause'})`;
  return e?.message ?? String(err);
}

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * Just enough HTML to text for a help page or FAQ: drop scripts, styles and tags, keep block
 * boundaries as blank lines (they become passage boundaries), decode common entities.
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<\/?(p|div|section|article|h[1-6]|li|ul|ol|tr|table|br|hr|dt|dd|blockquote|pre)\b[^>]*>/gi, '\n\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return HTML_ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t\f\v]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

/** The system prompt of an LLM agent: the instructions, then the knowledge base to answer from. */
export function instructionsWithKnowledgeBase(instructions: string, knowledgeBase: string): string {
  if (!knowledgeBase) return instructions;
  return `${instructions}\n\nAnswer from the following knowledge base when it is relevant. If it does not cover a question, say so briefly.\n\n<knowledge_base>\n${knowledgeBase}\n</knowledge_base>`;
}
