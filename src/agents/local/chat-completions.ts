import { SseParser } from './sse.js';

/**
 * A streaming client for any OpenAI-compatible `POST /chat/completions` endpoint (Ollama,
 * llama.cpp's server, vLLM, LM Studio, OpenAI itself): plain fetch plus our SSE parser, so an
 * abort ends the HTTP request at once and nothing else is pulled in.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatCompletionsOptions {
  /** Base URL such as `http://localhost:11434/v1`, or the full `…/chat/completions` URL. */
  url: string;
  model: string;
  apiKey?: string | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Longest wait for the response to start, and between two pieces of it, ms. */
  timeoutMs: number;
}

export type ChatErrorCode = 'LLM_UNAVAILABLE' | 'LLM_FAILED';

export class ChatCompletionsError extends Error {
  constructor(readonly code: ChatErrorCode, message: string) {
    super(message);
    this.name = 'ChatCompletionsError';
  }
}

/** `…/v1` → `…/v1/chat/completions`; a URL that already names the endpoint is kept. */
export function chatCompletionsUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return /\/chat\/completions$/.test(trimmed) ? trimmed : `${trimmed}/chat/completions`;
}

/** The URL without user info, query or fragment: safe to log and to show. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

/** The text of one streamed chunk (`choices[0].delta.content`), or of a whole non-streamed reply. */
function contentOf(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return '';
  const p = payload as { error?: unknown; choices?: Array<{ delta?: { content?: unknown }; message?: { content?: unknown } }> };
  if (p.error !== undefined) {
    const e = p.error as { message?: unknown } | string;
    throw new ChatCompletionsError('LLM_FAILED', `the language model reported an error: ${typeof e === 'string' ? e : String(e?.message ?? JSON.stringify(e))}`);
  }
  const choice = p.choices?.[0];
  const content = choice?.delta?.content ?? choice?.message?.content;
  return typeof content === 'string' ? content : '';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

export class ChatCompletionsClient {
  readonly endpoint: string;

  constructor(private readonly o: ChatCompletionsOptions) {
    this.endpoint = chatCompletionsUrl(o.url);
  }

  /**
   * Streams the reply's text as it is generated. Ends when the server sends `[DONE]` or closes
   * the stream. `signal` aborts the request (the generator then throws the abort reason).
   * Failures throw ChatCompletionsError: LLM_UNAVAILABLE (cannot connect, timeout) or LLM_FAILED
   * (HTTP error, error event, malformed stream).
   */
  async *stream(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string, void, undefined> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('timeout'));
      }, this.o.timeoutMs);
    };
    const where = redactUrl(this.endpoint);
    const rethrow = (err: unknown): never => {
      if (signal.aborted) throw signal.reason;
      if (err instanceof ChatCompletionsError) throw err;
      if (timedOut) throw new ChatCompletionsError('LLM_UNAVAILABLE', `the language model at ${where} did not answer within ${this.o.timeoutMs} ms`);
      throw new ChatCompletionsError('LLM_UNAVAILABLE', `cannot reach the language model at ${where}: ${describe(err)}`);
    };
    try {
      arm();
      const body: Record<string, unknown> = { model: this.o.model, messages, stream: true };
      if (this.o.temperature !== undefined) body.temperature = this.o.temperature;
      if (this.o.maxTokens !== undefined) body.max_tokens = this.o.maxTokens;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
      if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
      let res: Response;
      try {
        res = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal });
      } catch (err) {
        return rethrow(err);
      }
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw new ChatCompletionsError('LLM_FAILED', `the language model at ${where} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
      }
      if (!res.body) throw new ChatCompletionsError('LLM_FAILED', `the language model at ${where} sent an empty response`);
      const contentType = res.headers.get('content-type') ?? '';
      if (contentType.includes('application/json')) {
        // A server that ignores `stream: true` sends one whole completion.
        const whole = contentOf(JSON.parse(await res.text()));
        if (whole) yield whole;
        return;
      }
      const parser = new SseParser();
      const reader = res.body.getReader();
      try {
        for (;;) {
          arm();
          let piece: Awaited<ReturnType<typeof reader.read>>;
          try {
            piece = await reader.read();
          } catch (err) {
            return rethrow(err);
          }
          const events = piece.done ? parser.end() : parser.push(piece.value);
          for (const event of events) {
            if (event.data === '[DONE]') return;
            let payload: unknown;
            try {
              payload = JSON.parse(event.data);
            } catch {
              throw new ChatCompletionsError('LLM_FAILED', `the language model at ${where} sent a malformed event: ${event.data.slice(0, 100)}`);
            }
            const text = contentOf(payload);
            if (text) yield text;
          }
          if (piece.done) return;
        }
      } finally {
        // Ends the HTTP request when the consumer stops early (abort, error, return).
        reader.cancel().catch(() => {});
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
