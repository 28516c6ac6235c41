import t from 'tap';
import { ARKIT_NAMES, type ArkitName } from './arkit.js';
import { compileValidator } from './message-validator.js';
import { serverMessageSchemas } from './widget-schemas.js';
import { serializeServerMessage, type ServerMessage } from './widget-server.js';
import { museTalkError, museTalkMessage } from './musetalk.js';
import { museTalkServerSchemas } from './musetalk-schemas.js';
import { connectionEstablished, frameStreamError, streamEnd, streamStart } from './frame-stream.js';
import { frameStreamServerSchemas } from './frame-stream-schemas.js';

/** Server messages: built by the serializers and builders, they satisfy the schemas they are typed from. */
const check = (t: { ok(value: unknown, message: string): unknown }, schemas: Record<string, object>, json: string): void => {
  const msg = JSON.parse(json) as { type: string };
  const validate = compileValidator(schemas[msg.type]!);
  t.ok(validate(msg), `${msg.type}: ${JSON.stringify(validate.errors)}`);
};

const now = Date.now();
const widget: ServerMessage[] = [
  { type: 'config', audio: { inputSampleRate: 24000, outputSampleRate: 24000 } },
  { type: 'avatar_state', state: 'Responding' },
  { type: 'audio_start', sessionId: 's', turnId: 't', sampleRate: 24000, format: 'audio/pcm16', timestamp: now },
  { type: 'sync_frame', weights: Object.fromEntries(ARKIT_NAMES.map((n) => [n, 0.5])) as Record<ArkitName, number>, audio: 'AAAA', sessionId: 's', turnId: 't', timestamp: now, frameIndex: 0 },
  { type: 'audio_end', sessionId: 's', turnId: 't', timestamp: now },
  { type: 'transcript_delta', text: 'Hi', role: 'assistant', turnId: 't', sessionId: 's', timestamp: now, startOffset: 0, endOffset: 200, itemId: 'i' },
  { type: 'transcript_done', text: 'Hi', role: 'assistant', turnId: 't', timestamp: now, interrupted: true },
  { type: 'interrupt', turnId: 't', offsetMs: 120, timestamp: now },
  { type: 'trigger_action', function_name: 'wave', arguments: { hand: 'left' }, timestamp: now },
  { type: 'pong', timestamp: now },
  { type: 'error', code: 'INVALID_JSON', message: 'message is not valid JSON', timestamp: now },
];

t.test('widget: every server message serializes to JSON its schema accepts', async (t) => {
  t.same(new Set(widget.map((m) => m.type)), new Set(Object.keys(serverMessageSchemas)), 'one of each type');
  for (const m of widget) check(t, serverMessageSchemas, serializeServerMessage(m));
});

t.test('frame-stream and MuseTalk builders produce what their schemas describe', async (t) => {
  for (const json of [connectionEstablished('s'), streamStart('q', 'Hello.', 'hi', 50), streamEnd('q', 50, 2.0004), frameStreamError('x'), frameStreamError('x', 'SERVER_BUSY')]) {
    check(t, frameStreamServerSchemas, json);
    t.match(JSON.parse(json).timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO-8601 timestamp');
  }
  const sid = '6f1c2b8e-1111-4222-8333-444455556666';
  for (const json of [
    museTalkMessage('INIT_SUCCESS', sid, { model_loaded: true, available_videos: ['a'], default_video: 'a', streaming_started: true }),
    museTalkMessage('STATE_CHANGED', sid, { current_state: 'idle', current_video: 'a' }),
    museTalkMessage('ACTION_TRIGGERED', sid, { action_index: 2, inserted: true }),
    museTalkMessage('CLOSE_ACK', sid, { reason: 'timeout' }),
    museTalkMessage('PING', sid, {}),
    museTalkError(sid, 'INVALID_SESSION', 'no', { expected: 'x' }),
  ]) check(t, museTalkServerSchemas, json);
});

/**
 * Types derived from the schemas: each line below must NOT compile (tsc fails the build if one
 * does, via @ts-expect-error); never called.
 */
export function wrongFieldsDoNotTypeCheck(): void {
  // @ts-expect-error a field the schema does not have
  serializeServerMessage({ type: 'pong', timestamp: 1, extra: true });
  // @ts-expect-error a required field missing
  serializeServerMessage({ type: 'audio_end', sessionId: 's', timestamp: 1 });
  // @ts-expect-error a value outside the enum
  serializeServerMessage({ type: 'avatar_state', state: 'Sleeping' });
  // @ts-expect-error a number where the schema says string
  serializeServerMessage({ type: 'interrupt', turnId: 1, offsetMs: 0, timestamp: 1 });
  // @ts-expect-error an error code that is not in error-codes.ts
  frameStreamError('x', 'NOT_A_CODE');
  // @ts-expect-error MuseTalk data of another message type
  museTalkMessage('CLOSE_ACK', 's', { current_state: 'idle', current_video: 'a' });
  // @ts-expect-error a code outside the MuseTalk contract's closed set
  museTalkError('s', 'UNKNOWN_TYPE', 'x');
}
