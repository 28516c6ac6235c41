/**
 * JSON schemas of the frame-stream dialect (PROTOCOL.md §2). Incoming messages are validated by
 * validators compiled from the client schemas (frame-stream.ts); the server messages' types are
 * derived from the server schemas, and /openapi.json shows both.
 */
const str = { type: 'string' } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;

/** `maxAudioBytes`: the largest decoded `audio_input.audio`; without it, any length. */
export function frameStreamClientSchemas(maxAudioBytes?: number) {
  return {
    text_input: {
      type: 'object',
      properties: { type: { const: 'text_input' }, text: { type: 'string', pattern: '\\S', description: 'not only whitespace' } },
      required: ['type', 'text'],
    },
    audio_input: {
      type: 'object',
      properties: {
        type: { const: 'audio_input' },
        audio: {
          type: 'string', contentEncoding: 'base64', base64Bytes: maxAudioBytes === undefined ? {} : { maxBytes: maxAudioBytes },
          description: 'PCM16 16 kHz mono, or a WAV file',
        },
      },
      required: ['type', 'audio'],
    },
  } as const;
}

export const frameStreamServerSchemas = {
  connection_established: {
    type: 'object',
    properties: {
      type: { const: 'connection_established' }, session_id: str, timestamp: isoTime,
      stream_config: {
        type: 'object',
        properties: {
          frame_rate: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' },
          audio_sample_rate: { type: 'integer' }, frame_format: { const: 'jpeg' },
        },
        required: ['frame_rate', 'width', 'height', 'audio_sample_rate', 'frame_format'],
      },
    },
    required: ['type', 'session_id', 'timestamp', 'stream_config'],
  },
  stream_start: {
    type: 'object',
    properties: {
      type: { const: 'stream_start' }, sequence_id: str, response_text: str, original_input: str,
      total_frames: { type: 'integer' }, frame_rate: { type: 'integer' },
      estimated_duration: { type: 'number', description: 'seconds' }, timestamp: isoTime,
    },
    required: ['type', 'sequence_id', 'response_text', 'original_input', 'total_frames', 'frame_rate', 'estimated_duration', 'timestamp'],
  },
  frame: {
    type: 'object',
    properties: {
      type: { const: 'frame' }, sequence_id: str, frame_index: { type: 'integer', minimum: 0 },
      frame_data: { type: 'string', contentEncoding: 'base64', description: 'JPEG 640×480' },
      audio_data: {
        type: ['string', 'null'], contentEncoding: 'base64',
        description: 'PCM16 16 kHz mono: 200 ms on every 5th frame, covering it and the next four; else null',
      },
      timestamp: isoTime,
      progress: {
        type: 'object',
        properties: { current_frame: { type: 'integer', minimum: 1 }, total_frames: { type: 'integer' } },
        required: ['current_frame', 'total_frames'],
      },
    },
    required: ['type', 'sequence_id', 'frame_index', 'frame_data', 'audio_data', 'timestamp', 'progress'],
  },
  stream_end: {
    type: 'object',
    properties: {
      type: { const: 'stream_end' }, sequence_id: str, total_frames: { type: 'integer' },
      actual_duration: { type: 'number', description: 'seconds' }, timestamp: isoTime,
    },
    required: ['type', 'sequence_id', 'total_frames', 'actual_duration', 'timestamp'],
  },
  error: {
    type: 'object',
    properties: {
      type: { const: 'error' }, message: str, timestamp: isoTime,
      code: { type: 'string', description: 'our addition: an ErrorCode (src/protocol/error-codes.ts)' },
    },
    required: ['type', 'message', 'timestamp'],
  },
} as const;
