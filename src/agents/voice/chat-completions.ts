import type OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { redactSecrets } from '../redact-secrets.js';
import { openAiClient, redactUrl, upstreamError, UpstreamError, type ErrorWording } from './openai-http.js';
import type { ChatMessage, ReplySource } from './reply-source.js';

/**
 * A streaming client for any OpenAI-compatible `POST /chat/completions` endpoint (Ollama,
 * llama.cpp's server, vLLM, LM Studio, an OpenClaw gateway, OpenAI itself) through the `openai`
 * SDK. Every chunk is checked before use: the server is untrusted.
 */
export interface ChatCompletionsOptions {
  /** Base URL such as `http://localhost:11434/v1` (a trailing `/chat/completions` is dropped). */
  url: string;
  model: string;
  apiKey?: string | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Longest wait for the response to start, and between two pieces of it, ms. */
  timeoutMs: number;
  /**
   * Longest wait for the connection and the response headers of one attempt, ms (an SSE server
   * sends its headers before it generates); then the attempt fails and is retried. Default:
   * `timeoutMs`.
   */
  connectTimeoutMs?: number;
  /** Retries before the stream starts (connection refused, 429, 5xx). */
  maxRetries?: number;
  /** Sent with every request (OpenClaw's routing headers). */
  headers?: Record<string, string>;
  /** Extra body fields (`user`). */
  body?: Record<string, string>;
  /** Codes and wording of errors. */
  what?: string;
  unavailableCode?: string;
  failedCode?: string;
}

/** One streamed piece: its text and the chunk's finish reason (both checked, both may be absent). */
export interface ChatPiece {
  content: string;
  finishReason: string | null;
}

export function chatCompletionsBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
}

export class ChatCompletionsClient implements ReplySource {
  readonly endpoint: string;
  private readonly client: OpenAI;
  private readonly wording: ErrorWording;

  constructor(private readonly o: ChatCompletionsOptions) {
    const base = chatCompletionsBase(o.url);
    this.endpoint = `${base}/chat/completions`;
    this.client = openAiClient({ baseUrl: base, apiKey: o.apiKey, timeoutMs: o.connectTimeoutMs ?? o.timeoutMs, maxRetries: o.maxRetries ?? 0, headers: o.headers });
    this.wording = {
      what: o.what ?? 'the language model',
      where: redactUrl(this.endpoint),
      unavailableCode: o.unavailableCode ?? 'LLM_UNAVAILABLE',
      failedCode: o.failedCode ?? 'LLM_FAILED',
      secrets: o.apiKey ? [o.apiKey] : [],
    };
  }

  async *stream(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string, void, undefined> {
    for await (const piece of this.pieces(messages, signal)) if (piece.content) yield piece.content;
  }

  /**
   * The reply's pieces as they are generated, ending at `[DONE]` or the end of the stream.
   * `signal` aborts the request (the generator then throws the abort reason).
   */
  async *pieces(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<ChatPiece, void, undefined> {
    // Our own idle timer: the SDK's timeout (connectTimeoutMs) only covers the wait for the response headers.
    const idle = new AbortController();
    const combined = AbortSignal.any([signal, idle.signal]);
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(new UpstreamError(this.wording.unavailableCode, `${this.wording.what} at ${this.wording.where} did not answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
    };
    const fail = (err: unknown): unknown => (idle.signal.aborted && !signal.aborted ? idle.signal.reason : upstreamError(err, this.wording, signal));
    try {
      arm();
      const body = {
        ...this.o.body,
        model: this.o.model,
        messages,
        stream: true as const,
        ...(this.o.temperature !== undefined ? { temperature: this.o.temperature } : {}),
        ...(this.o.maxTokens !== undefined ? { max_tokens: this.o.maxTokens } : {}),
      };
      let stream: AsyncIterable<unknown>;
      try {
        const response = await this.client.chat.completions.create(body, { signal: combined }).asResponse();
        if ((response.headers.get('content-type') ?? '').includes('application/json')) {
          // A server that ignores `stream: true` answers one whole completion.
          const piece = pieceOf(await wholeCompletion(response, this.wording));
          if (piece) yield piece;
          return;
        }
        stream = Stream.fromSSEResponse<unknown>(response, new AbortController());
      } catch (err) {
        throw fail(err);
      }
      try {
        for await (const chunk of stream) {
          arm();
          const piece = pieceOf(chunk);
          if (piece) yield piece;
        }
      } catch (err) {
        throw fail(err);
      }
      // The SDK ends an aborted stream quietly: an abort (ours or the idle timer's) must not pass for the end of the reply.
      if (signal.aborted) throw signal.reason;
      if (idle.signal.aborted) throw idle.signal.reason;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The first choice of a `chat.completion.chunk`, or null when the chunk carries nothing usable. */
export function pieceOf(chunk: unknown): ChatPiece | null {
  if (typeof chunk !== 'object' || chunk === null) return null;
  const choices = (chunk as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) return null;
  const choice: unknown = choices[0];
  if (typeof choice !== 'object' || choice === null) return null;
  const delta = (choice as { delta?: unknown; message?: unknown }).delta ?? (choice as { message?: unknown }).message;
  const content = typeof delta === 'object' && delta !== null ? (delta as { content?: unknown }).content : undefined;
  const finish = (choice as { finish_reason?: unknown }).finish_reason;
  return { content: typeof content === 'string' ? content : '', finishReason: typeof finish === 'string' ? finish : null };
}

async function wholeCompletion(response: Response, w: ErrorWording): Promise<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.text());
  } catch {
    throw new UpstreamError(w.failedCode, `${w.what} at ${w.where} sent malformed JSON`);
  }
  const error = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
  if (error !== undefined) {
    const message = typeof error === 'string' ? error : typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string' ? (error as { message: string }).message : 'unspecified';
    throw new UpstreamError(w.failedCode, `${w.what} at ${w.where} reported an error: ${redactSecrets(message, w.secrets).slice(0, 200)}`);
  }
  return parsed;
}
