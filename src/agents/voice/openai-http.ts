import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { redactSecrets } from '../redact-secrets.js';

/**
 * One `openai` SDK client pointed at an OpenAI-compatible server (speaches, Ollama, llama.cpp,
 * vLLM, an OpenClaw gateway…), and the one mapping of its errors to our coded ones. Nothing is
 * taken from the process environment: the SDK would otherwise read OPENAI_API_KEY /
 * OPENAI_BASE_URL / OPENAI_ORG_ID and send the real OpenAI key to a local server.
 */
export interface OpenAiHttpOptions {
  /** Base URL such as `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Bearer token; undefined sends no Authorization header at all. */
  apiKey?: string | undefined;
  /** Longest wait for the response headers, ms (each attempt). */
  timeoutMs: number;
  /** Retries of a connection failure, 408/409/429 or 5xx, with the SDK's exponential backoff. */
  maxRetries: number;
  headers?: Record<string, string>;
}

export function openAiClient(o: OpenAiHttpOptions): OpenAI {
  return new OpenAI({
    baseURL: o.baseUrl.replace(/\/+$/, ''),
    // The SDK insists on a key; without one the header is removed below.
    apiKey: o.apiKey ?? 'no-key',
    organization: null,
    project: null,
    timeout: o.timeoutMs,
    maxRetries: o.maxRetries,
    logLevel: 'off',
    defaultHeaders: { ...(o.apiKey ? {} : { Authorization: null }), ...o.headers },
  });
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

/** A failure talking to an upstream service, with the code the client sees. */
export class UpstreamError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface ErrorWording {
  /** What the service is, for messages: "the language model", "the speech server". */
  what: string;
  /** Redacted endpoint. */
  where: string;
  unavailableCode: string;
  failedCode: string;
  /** Never shown, even if the server echoes them. */
  secrets: readonly string[];
}

/**
 * An SDK (or fetch) failure as an UpstreamError. An abort through `signal` is rethrown as its
 * reason, so callers can tell a cancel from a failure.
 */
export function upstreamError(err: unknown, w: ErrorWording, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  if (err instanceof UpstreamError) return err;
  const clean = (s: string): string => redactSecrets(s, w.secrets).slice(0, 300);
  if (err instanceof APIUserAbortError) return new UpstreamError(w.unavailableCode, `${w.what} at ${w.where} did not answer in time`);
  if (err instanceof APIConnectionTimeoutError) return new UpstreamError(w.unavailableCode, `${w.what} at ${w.where} did not answer in time`);
  if (err instanceof APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? (cause as { cause?: unknown }).cause instanceof Error ? ((cause as { cause: Error }).cause.message) : cause.message : err.message;
    return new UpstreamError(w.unavailableCode, `cannot reach ${w.what} at ${w.where}: ${clean(why)}`);
  }
  if (err instanceof APIError) {
    if (err.status === 401 || err.status === 403) return new UpstreamError(w.failedCode, `${w.what} at ${w.where} refused the credentials (HTTP ${err.status}); check the token`);
    if (err.status !== undefined) return new UpstreamError(w.failedCode, `${w.what} at ${w.where} answered HTTP ${err.status}: ${clean(err.message)}`);
    return new UpstreamError(w.failedCode, `${w.what} at ${w.where} reported an error: ${clean(err.message)}`);
  }
  if (err instanceof SyntaxError) return new UpstreamError(w.failedCode, `${w.what} at ${w.where} sent a malformed event`);
  return new UpstreamError(w.failedCode, `${w.what} at ${w.where} failed: ${clean(err instanceof Error ? err.message : String(err))}`);
}
