/**
 * The remote agent protocol: JSON text frames over one WebSocket from this server (the client)
 * to `AGENT_URL` (the agent). Documented in docs/remote-agent-protocol.md.
 */
export type ToRemoteAgent =
  | { type: 'session.start'; sessionId: string; inputSampleRate: number; outputSampleRate: number; instructions: string }
  | { type: 'text'; text: string }
  | { type: 'audio'; data: string }
  | { type: 'audio_commit' }
  | { type: 'cancel'; offsetMs: number };

export type FromRemoteAgent =
  | { type: 'response_start'; responseId?: string }
  | { type: 'audio_delta'; data: string }
  | { type: 'transcript_delta'; text: string }
  | { type: 'response_end'; responseId?: string; transcript?: string }
  | { type: 'user_transcript'; text: string }
  | { type: 'interrupted' }
  | { type: 'tool_call'; name: string; arguments?: Record<string, unknown> }
  | { type: 'error'; code?: string; message: string };
