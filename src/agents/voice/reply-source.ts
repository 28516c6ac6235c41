/**
 * Where a voice agent's replies come from: an OpenAI-compatible chat-completions server (local
 * LLM, OpenClaw gateway) or a ZeroClaw gateway socket. The voice pipeline (VAD, STT, sentence
 * TTS, barge-in) is the same for all of them; only this differs.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ReplySource {
  /**
   * The reply to the conversation so far (`messages`, system prompt first, the user's latest
   * utterance last), as raw text fragments while they are produced. `signal` aborts it: the
   * iteration then ends by throwing the abort reason. Failures throw an error with a string
   * `code` (UpstreamError).
   */
  stream(messages: ChatMessage[], signal: AbortSignal): AsyncIterable<string>;
}
