import { randomUUID } from 'node:crypto';
import { ChatCompletionsClient } from '../voice/chat-completions.js';
import { UpstreamError } from '../voice/openai-http.js';
import type { ChatMessage, ReplySource } from '../voice/reply-source.js';
import type { OpenClawSettings } from './settings.js';

/** What the gateway streams as content when its run fails (with finish_reason "stop"). */
const INTERNAL_ERROR_TEXT = 'Error: internal error';

/**
 * Replies from an OpenClaw gateway's OpenAI-compatible `POST /v1/chat/completions`: streamed
 * SSE with the Bearer token, the model (`openclaw:<agent>`), `user` for a stable gateway
 * session and the routing headers. The gateway reports a failed run as a content chunk
 * "Error: internal error": that chunk is an error, never speech. Closing the request is how a
 * barge-in stops it (the gateway may finish the run on its side; nothing more reaches us).
 */
export class OpenClawReplies implements ReplySource {
  private readonly client: ChatCompletionsClient;

  constructor(s: OpenClawSettings) {
    const headers: Record<string, string> = {};
    if (s.agentId) headers['x-openclaw-agent-id'] = s.agentId;
    if (s.sessionKey) headers['x-openclaw-session-key'] = s.sessionKey;
    this.client = new ChatCompletionsClient({
      url: s.baseUrl,
      model: s.model,
      apiKey: s.apiToken,
      timeoutMs: s.readTimeoutMs,
      connectTimeoutMs: s.connectTimeoutMs,
      maxRetries: s.maxRetries,
      headers,
      body: { user: s.userId ?? `avatar-${randomUUID()}` },
      what: 'the OpenClaw gateway',
      unavailableCode: 'GATEWAY_UNAVAILABLE',
      failedCode: 'GATEWAY_ERROR',
    });
  }

  async *stream(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string, void, undefined> {
    for await (const piece of this.client.pieces(messages, signal)) {
      if (piece.content.trim() === INTERNAL_ERROR_TEXT) throw new UpstreamError('GATEWAY_ERROR', 'the OpenClaw gateway reported an internal error while answering');
      if (piece.content) yield piece.content;
    }
  }
}
