import { ARKIT_NAMES, type ArkitName } from './arkit.js';

/**
 * JSON schemas of the widget dialect (PROTOCOL.md §1). Serializers are compiled from these
 * (fast-json-stringify) on the main thread and in the inference workers; tests and the OpenAPI
 * document use the same objects.
 */
const ts = { type: 'integer' } as const;
const str = { type: 'string' } as const;

const weight = { type: 'number', minimum: 0, maximum: 1 } as const;
export const weightsSchema = {
  type: 'object',
  properties: Object.fromEntries(ARKIT_NAMES.map((n) => [n, weight])) as Record<ArkitName, typeof weight>,
  required: [...ARKIT_NAMES],
  additionalProperties: false,
} as const;

export const serverMessageSchemas = {
  config: {
    type: 'object',
    properties: {
      type: { const: 'config' },
      audio: {
        type: 'object',
        properties: { inputSampleRate: { type: 'integer' }, outputSampleRate: { type: 'integer' } },
        required: ['inputSampleRate', 'outputSampleRate'],
      },
    },
    required: ['type', 'audio'],
  },
  avatar_state: {
    type: 'object',
    properties: { type: { const: 'avatar_state' }, state: { enum: ['Responding', 'Listening'] } },
    required: ['type', 'state'],
  },
  audio_start: {
    type: 'object',
    properties: {
      type: { const: 'audio_start' }, sessionId: str, turnId: str, sampleRate: { type: 'integer' },
      format: { const: 'audio/pcm16' }, timestamp: ts,
    },
    required: ['type', 'sessionId', 'turnId', 'sampleRate', 'format', 'timestamp'],
  },
  sync_frame: {
    type: 'object',
    properties: {
      type: { const: 'sync_frame' }, weights: weightsSchema, audio: str, sessionId: str, turnId: str,
      timestamp: ts, frameIndex: { type: 'integer', minimum: 0 },
    },
    required: ['type', 'weights', 'audio', 'sessionId', 'turnId', 'timestamp', 'frameIndex'],
  },
  audio_end: {
    type: 'object',
    properties: { type: { const: 'audio_end' }, sessionId: str, turnId: str, timestamp: ts },
    required: ['type', 'sessionId', 'turnId', 'timestamp'],
  },
  transcript_delta: {
    type: 'object',
    properties: {
      type: { const: 'transcript_delta' }, text: str, role: { enum: ['assistant', 'user'] }, turnId: str,
      sessionId: str, timestamp: ts, startOffset: { type: 'integer' }, endOffset: { type: 'integer' },
      itemId: str, previousItemId: str,
    },
    required: ['type', 'text', 'role', 'turnId', 'sessionId', 'timestamp', 'startOffset', 'endOffset'],
  },
  transcript_done: {
    type: 'object',
    properties: {
      type: { const: 'transcript_done' }, text: str, role: { enum: ['assistant', 'user'] }, turnId: str,
      timestamp: ts, interrupted: { type: 'boolean' }, itemId: str,
    },
    required: ['type', 'text', 'role', 'turnId', 'timestamp'],
  },
  interrupt: {
    type: 'object',
    properties: { type: { const: 'interrupt' }, turnId: str, offsetMs: { type: 'integer' }, timestamp: ts },
    required: ['type', 'turnId', 'offsetMs', 'timestamp'],
  },
  trigger_action: {
    type: 'object',
    properties: {
      type: { const: 'trigger_action' }, function_name: str,
      arguments: { type: 'object', additionalProperties: true }, timestamp: ts,
    },
    required: ['type', 'function_name', 'arguments', 'timestamp'],
  },
  pong: {
    type: 'object',
    properties: { type: { const: 'pong' }, timestamp: ts },
    required: ['type', 'timestamp'],
  },
  error: {
    type: 'object',
    properties: {
      type: { const: 'error' }, code: { type: 'string', description: 'an ErrorCode (src/protocol/error-codes.ts), or a remote agent\'s own code' },
      message: str, timestamp: ts,
    },
    required: ['type', 'code', 'message', 'timestamp'],
  },
} as const;

export type ServerMessageType = keyof typeof serverMessageSchemas;

/** Fields the contract says the server ignores: accepted with any value. */
const ignored = { description: 'ignored' } as const;

/**
 * Client messages (PROTOCOL.md §1.2). The validators of incoming messages are compiled from
 * these (widget-client.ts); a field the contract ignores is not checked.
 */
export const clientMessageSchemas = {
  text: {
    type: 'object',
    properties: { type: { const: 'text' }, data: { type: 'string', pattern: '\\S', description: 'not only whitespace' }, userId: ignored, timestamp: ignored },
    required: ['type', 'data'],
  },
  audio_stream_start: {
    type: 'object',
    properties: { type: { const: 'audio_stream_start' }, userId: ignored, sampleRate: ignored },
    required: ['type'],
  },
  audio: {
    type: 'object',
    properties: {
      type: { const: 'audio' },
      data: {
        type: 'string', contentEncoding: 'base64', base64Bytes: { multipleOf: 2 },
        description: 'PCM16 LE mono at config.audio.inputSampleRate, an even number of bytes',
      },
    },
    required: ['type', 'data'],
  },
  audio_stream_end: { type: 'object', properties: { type: { const: 'audio_stream_end' } }, required: ['type'] },
  interrupt: { type: 'object', properties: { type: { const: 'interrupt' } }, required: ['type'] },
  ping: { type: 'object', properties: { type: { const: 'ping' }, timestamp: ignored }, required: ['type'] },
} as const;
