import { ARKIT_NAMES } from './arkit.js';

/**
 * JSON schemas of the widget dialect (PROTOCOL.md §1). Serializers are compiled from these
 * (fast-json-stringify) on the main thread and in the inference workers; tests and the OpenAPI
 * document use the same objects.
 */
const ts = { type: 'integer' } as const;
const str = { type: 'string' } as const;

export const weightsSchema = {
  type: 'object',
  properties: Object.fromEntries(ARKIT_NAMES.map((n) => [n, { type: 'number', minimum: 0, maximum: 1 }])),
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
    properties: { type: { const: 'error' }, code: str, message: str, timestamp: ts },
    required: ['type', 'code', 'message', 'timestamp'],
  },
} as const;

export type ServerMessageType = keyof typeof serverMessageSchemas;

export const clientMessageSchemas = {
  text: {
    type: 'object',
    properties: { type: { const: 'text' }, data: { type: 'string', minLength: 1 }, userId: str, timestamp: {} },
    required: ['type', 'data'],
  },
  audio_stream_start: {
    type: 'object',
    properties: { type: { const: 'audio_stream_start' }, userId: str, sampleRate: { type: 'number' } },
    required: ['type'],
  },
  audio: {
    type: 'object',
    properties: {
      type: { const: 'audio' },
      data: { type: 'string', contentEncoding: 'base64', description: 'PCM16 LE mono at config.audio.inputSampleRate' },
    },
    required: ['type', 'data'],
  },
  audio_stream_end: { type: 'object', properties: { type: { const: 'audio_stream_end' } }, required: ['type'] },
  interrupt: { type: 'object', properties: { type: { const: 'interrupt' } }, required: ['type'] },
  ping: { type: 'object', properties: { type: { const: 'ping' }, timestamp: {} }, required: ['type'] },
} as const;
