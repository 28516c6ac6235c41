/**
 * The ZeroClaw gateway's `/ws/chat` frames as we read them: every frame is untrusted, so it is
 * parsed into one of these typed shapes or into `invalid` with a reason; nothing else of the
 * raw JSON is used. Frames we do not act on (thinking, tool_result, plan, history_trimmed,
 * newer kinds) are `ignored`.
 */
export type GatewayFrame =
  | { type: 'session_start'; sessionId: string | null; resumed: boolean }
  | { type: 'chunk'; content: string }
  | { type: 'done'; fullResponse: string | null }
  | { type: 'error'; message: string }
  | { type: 'tool_call'; name: string | null }
  | { type: 'approval_request'; requestId: string; tool: string | null }
  | { type: 'aborted' }
  | { type: 'ignored'; kind: string }
  | { type: 'invalid'; reason: string };

/** Longest text taken from one frame, characters. */
export const MAX_FRAME_TEXT_CHARS = 64 * 1024;
const MAX_ID_CHARS = 256;

function str(v: unknown, max: number): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

function id(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS && /^[\x21-\x7e]+$/.test(v) ? v : null;
}

export function parseGatewayFrame(raw: string): GatewayFrame {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { type: 'invalid', reason: 'not JSON' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { type: 'invalid', reason: 'not a JSON object' };
  const m = msg as Record<string, unknown>;
  if (typeof m.type !== 'string') return { type: 'invalid', reason: 'no string "type"' };
  switch (m.type) {
    case 'session_start':
      return { type: 'session_start', sessionId: id(m.session_id), resumed: m.resumed === true };
    case 'chunk': {
      const content = str(m.content, MAX_FRAME_TEXT_CHARS);
      return content === null ? { type: 'invalid', reason: 'chunk without a string "content"' } : { type: 'chunk', content };
    }
    case 'done':
      return { type: 'done', fullResponse: str(m.full_response, MAX_FRAME_TEXT_CHARS) };
    case 'error':
      return { type: 'error', message: str(m.message, 500) ?? str(m.error, 500) ?? 'unspecified error' };
    case 'tool_call':
      return { type: 'tool_call', name: str(m.name, 100) };
    case 'approval_request': {
      const requestId = id(m.request_id);
      return requestId === null ? { type: 'invalid', reason: 'approval_request without a usable "request_id"' } : { type: 'approval_request', requestId, tool: str(m.tool, 100) };
    }
    case 'aborted':
      return { type: 'aborted' };
    default:
      return { type: 'ignored', kind: m.type.slice(0, 40) };
  }
}
