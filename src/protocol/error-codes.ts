/**
 * Every error code the server sends to a client, in one place: the widget dialect's
 * `error.code`, the frame-stream dialect's `error.code` (our addition to its contract) and the
 * MuseTalk dialect's `ERROR.data.code`. `test` scans `src/` and `workers/` for sent codes and the
 * README's list, and fails when either differs from this module.
 *
 * One exception, by contract (docs/remote-agent-protocol.md): a remote agent's own `error.code`
 * is relayed when it looks like ours; that is a `RelayedAgentCode`, not an `ErrorCode`.
 */
export const ErrorCode = {
  // -- the client's message (every dialect) --
  INVALID_JSON: 'INVALID_JSON',
  BINARY_NOT_SUPPORTED: 'BINARY_NOT_SUPPORTED',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  MISSING_FIELD: 'MISSING_FIELD',
  INVALID_FIELD: 'INVALID_FIELD',
  INVALID_AUDIO: 'INVALID_AUDIO',
  /** MuseTalk: `session_id` does not match the session, or no INIT yet. */
  INVALID_SESSION: 'INVALID_SESSION',
  // -- admission and flow (close codes 1008 / 1013 follow) --
  /** Too many messages (widget: then close 1008) or connection attempts. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** MuseTalk's name for RATE_LIMITED (its contract's closed set), also for too much queued audio. */
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  /**
   * Never in a message: a refused token or origin is closed with 1008 and a reason; counted
   * under this code in `avatar_errors_total`.
   */
  AUTH_FAILED: 'AUTH_FAILED',
  /** At MAX_SESSIONS / VIDEO_MAX_SESSIONS, or shutting down. */
  SERVER_BUSY: 'SERVER_BUSY',
  /** Frame-stream: the client cannot take the 25 FPS stream in real time. */
  CLIENT_TOO_SLOW: 'CLIENT_TOO_SLOW',
  /** Frame-stream: a response longer than the longest streamed; the rest is not sent. */
  RESPONSE_TOO_LONG: 'RESPONSE_TOO_LONG',
  /** Frame-stream: too many responses queued; this one is not streamed. */
  TOO_MANY_RESPONSES: 'TOO_MANY_RESPONSES',
  // -- the agent --
  AGENT_ERROR: 'AGENT_ERROR',
  AGENT_UNAVAILABLE: 'AGENT_UNAVAILABLE',
  AGENT_DISCONNECTED: 'AGENT_DISCONNECTED',
  AGENT_BACKLOG: 'AGENT_BACKLOG',
  /** The agent sent a message that failed validation; it was ignored (throttled). */
  AGENT_INVALID_MESSAGE: 'AGENT_INVALID_MESSAGE',
  /** The agent did not answer, or went silent inside a response (AGENT_*_TIMEOUT_MS). */
  AGENT_TIMEOUT: 'AGENT_TIMEOUT',
  /** Mic audio sent to an agent that has no speech recognition (offline): type instead. */
  SPEECH_INPUT_UNSUPPORTED: 'SPEECH_INPUT_UNSUPPORTED',
  // -- the local and Claw agents' services --
  STT_NOT_CONFIGURED: 'STT_NOT_CONFIGURED',
  STT_UNAVAILABLE: 'STT_UNAVAILABLE',
  STT_FAILED: 'STT_FAILED',
  LLM_UNAVAILABLE: 'LLM_UNAVAILABLE',
  LLM_FAILED: 'LLM_FAILED',
  TTS_UNAVAILABLE: 'TTS_UNAVAILABLE',
  TTS_FAILED: 'TTS_FAILED',
  /** The speech server failed; the built-in voice speaks instead (not fatal). */
  TTS_FALLBACK: 'TTS_FALLBACK',
  VAD_FAILED: 'VAD_FAILED',
  GATEWAY_UNAVAILABLE: 'GATEWAY_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'GATEWAY_TIMEOUT',
  GATEWAY_ERROR: 'GATEWAY_ERROR',
  // -- the server --
  /** MuseTalk: no lip-sync model, or no such video / avatar pack. */
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  /** MuseTalk: rendering or encoding failed. */
  PROCESSING_ERROR: 'PROCESSING_ERROR',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

const known = new Set<string>(ERROR_CODES);
export const isErrorCode = (code: string): code is ErrorCode => known.has(code);

/** The MuseTalk contract's closed set of `ERROR.data.code` (PROTOCOL.md §3). */
export const MUSETALK_ERROR_CODES = [
  ErrorCode.INVALID_MESSAGE, ErrorCode.INVALID_SESSION, ErrorCode.MODEL_NOT_FOUND,
  ErrorCode.PROCESSING_ERROR, ErrorCode.RATE_LIMIT_EXCEEDED, ErrorCode.INTERNAL_ERROR,
] as const;
export type MuseTalkErrorCode = (typeof MUSETALK_ERROR_CODES)[number];

/** A code a remote agent sent, in our shape; relayed to the client as it is. */
export type RelayedAgentCode = string & { readonly relayedAgentCode: unique symbol };

const CODE_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The code the client sees for an agent's error: ours when it is one of ours, the agent's own
 * when it has our shape (remote agents may report theirs), else AGENT_ERROR.
 */
export function agentErrorCode(code: string): ErrorCode | RelayedAgentCode {
  if (isErrorCode(code)) return code;
  return CODE_SHAPE.test(code) ? (code as RelayedAgentCode) : ErrorCode.AGENT_ERROR;
}
