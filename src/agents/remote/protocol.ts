/**
 * The remote agent protocol: JSON text frames over one WebSocket from this server (the client)
 * to `AGENT_URL` (the agent). Documented in docs/remote-agent-protocol.md; it is a superset of
 * the Python reference server's remote protocol, so agents written for either work.
 */
export type ToRemoteAgent =
  | { type: 'session.start'; sessionId: string; inputSampleRate: number; outputSampleRate: number; instructions: string }
  // The reference reads `data`; our earlier docs promised `text`: both carry the same string.
  | { type: 'text'; data: string; text: string }
  | { type: 'audio'; data: string }
  | { type: 'audio_commit' }
  | { type: 'cancel'; offsetMs: number };

/**
 * What an agent sent, after validation (src/agents/remote/upstream-message.ts): field aliases
 * resolved, types and sizes checked, audio decoded. The wire spellings are in the doc.
 */
export type FromRemoteAgent =
  | { type: 'response_start'; responseId?: string }
  | { type: 'audio_delta'; pcm: Buffer }
  | { type: 'transcript_delta'; text: string; role: 'assistant' | 'user'; itemId?: string; previousItemId?: string }
  | { type: 'response_end'; responseId?: string; transcript?: string; itemId?: string }
  | { type: 'user_transcript'; text: string; itemId?: string }
  | { type: 'interrupted' }
  | { type: 'tool_call'; name: string; arguments: Record<string, unknown> }
  | { type: 'error'; code: string; message: string };
