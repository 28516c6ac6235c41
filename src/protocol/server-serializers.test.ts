import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ARKIT_NAMES, type ArkitName } from './arkit.js';
import { compileValidator } from './message-validator.js';
import type { Serializer } from './message-serializer.js';
import { serverMessageSchemas, type ServerMessageType } from './widget-schemas.js';
import { serializeServerMessage, widgetSerializers, type ServerMessage } from './widget-server.js';
import { frameStreamServerSchemas } from './frame-stream-schemas.js';
import { frameMessageJson, frameStreamSerializers, type FrameStreamServerMessage } from './frame-stream-server.js';
import { connectionEstablished, frameStreamError, streamEnd, streamStart } from './frame-stream.js';
import { museTalkServerSchemas } from './musetalk-schemas.js';
import { museTalkError, museTalkMessage, museTalkSerializers, type MuseTalkServerData, type MuseTalkServerType } from './musetalk-server.js';
import { videoFrameMessage } from '../video/musetalk-video-frame.js';

/**
 * Every server message of every dialect is serialized by a function compiled from its schema
 * (message-serializer.ts), and what it writes is what the schema describes. The tables below
 * are keyed by message type, so a type added to a schema without a sample and a builder here
 * fails to compile, and fails the coverage checks at run time.
 */
interface Dialect {
  /** Whole-message schemas, by type: what /openapi.json shows. */
  schemas: Readonly<Record<string, object>>;
  serializers: Record<string, Serializer>;
  /** A representative message of each type, with every optional field the schema has. */
  samples: Readonly<Record<string, object>>;
  /** Each type as the server builds it, by the function the server calls. */
  builders: Readonly<Record<string, () => string>>;
}

const now = 1_717_000_000_123;
const iso = new Date(now).toISOString();
/** Text that needs escaping: quotes, a backslash, control characters, U+2028, a surrogate pair. */
const awkward = 'say "hi" \\ now\n\ttab \u0001 \u2028 🎉';
const sid = '6f1c2b8e-1111-4222-8333-444455556666';

const widgetSamples: { [K in ServerMessageType]: Extract<ServerMessage, { type: K }> } = {
  config: { type: 'config', audio: { inputSampleRate: 24000, outputSampleRate: 24000 } },
  avatar_state: { type: 'avatar_state', state: 'Listening' },
  audio_start: { type: 'audio_start', sessionId: 's', turnId: 't', sampleRate: 24000, format: 'audio/pcm16', timestamp: now },
  sync_frame: {
    type: 'sync_frame', weights: Object.fromEntries(ARKIT_NAMES.map((n, i) => [n, (i % 10) / 10])) as Record<ArkitName, number>,
    audio: 'AAAA', sessionId: 's', turnId: 't', timestamp: now, frameIndex: 7,
  },
  audio_end: { type: 'audio_end', sessionId: 's', turnId: 't', timestamp: now },
  transcript_delta: {
    type: 'transcript_delta', text: awkward, role: 'user', turnId: 't', sessionId: 's', timestamp: now, startOffset: 0, endOffset: 200,
    itemId: 'i2', previousItemId: 'i1',
  },
  transcript_done: { type: 'transcript_done', text: awkward, role: 'assistant', turnId: 't', timestamp: now, interrupted: true, itemId: 'i2' },
  interrupt: { type: 'interrupt', turnId: 't', offsetMs: 120, timestamp: now },
  trigger_action: { type: 'trigger_action', function_name: 'wave', arguments: { hand: 'left', times: 2, nested: { a: [1, null] } }, timestamp: now },
  pong: { type: 'pong', timestamp: now },
  error: { type: 'error', code: 'SERVER_BUSY', message: awkward, timestamp: now },
};

type FrameStreamType = FrameStreamServerMessage['type'];
const frameStreamSamples: { [K in FrameStreamType]: Extract<FrameStreamServerMessage, { type: K }> } = {
  connection_established: {
    type: 'connection_established', session_id: 's', timestamp: iso,
    stream_config: { frame_rate: 25, width: 640, height: 480, audio_sample_rate: 16000, frame_format: 'jpeg' },
  },
  stream_start: {
    type: 'stream_start', sequence_id: 'q', response_text: awkward, original_input: awkward, total_frames: 50, frame_rate: 25,
    estimated_duration: 2, timestamp: iso,
  },
  frame: {
    type: 'frame', sequence_id: 'q', frame_index: 5, frame_data: '/9j/4AAQ', audio_data: 'AAAA', timestamp: iso,
    progress: { current_frame: 6, total_frames: 50 },
  },
  stream_end: { type: 'stream_end', sequence_id: 'q', total_frames: 50, actual_duration: 2.004, timestamp: iso },
  error: { type: 'error', message: awkward, timestamp: iso, code: 'AGENT_ERROR' },
};

const museTalkData: { [K in MuseTalkServerType]: MuseTalkServerData<K> } = {
  INIT_SUCCESS: { model_loaded: true, available_videos: ['default', awkward], default_video: 'default', streaming_started: true },
  VIDEO_FRAME: { frame_data: 'AAAAAWdC', frame_timestamp: 480 },
  STATE_CHANGED: { current_state: 'speaking', current_video: 'default' },
  ACTION_TRIGGERED: { action_index: 2, inserted: true },
  CLOSE_ACK: { reason: 'client_request' },
  ERROR: { code: 'INVALID_MESSAGE', message: awkward, details: { reason: 'INVALID_AUDIO', field: 'data', n: 3 } },
  PING: {},
};
const museTalkSamples = Object.fromEntries(
  Object.entries(museTalkData).map(([type, data]) => [type, { type, session_id: sid, data }]),
) as { [K in MuseTalkServerType]: { type: K; session_id: string; data: MuseTalkServerData<K> } };

const dialects: Record<string, Dialect> = {
  widget: {
    schemas: serverMessageSchemas,
    serializers: widgetSerializers,
    samples: widgetSamples,
    // The widget dialect's sessions (and server.ts's refusal) call serializeServerMessage.
    builders: Object.fromEntries(Object.values(widgetSamples).map((m) => [m.type, () => serializeServerMessage(m)])) as
      { [K in ServerMessageType]: () => string },
  },
  'frame-stream': {
    schemas: frameStreamServerSchemas,
    serializers: frameStreamSerializers,
    samples: frameStreamSamples,
    builders: {
      connection_established: () => connectionEstablished('s'),
      stream_start: () => streamStart('q', awkward, 'hi', 50),
      frame: () => frameMessageJson('q', 0, 50, '/9j/4AAQ', 'AAAA', now),
      stream_end: () => streamEnd('q', 50, 2.0004),
      error: () => frameStreamError(awkward, 'SERVER_BUSY'),
    } satisfies { [K in FrameStreamType]: () => string },
  },
  MuseTalk: {
    schemas: museTalkServerSchemas,
    serializers: museTalkSerializers,
    samples: museTalkSamples,
    builders: {
      INIT_SUCCESS: () => museTalkMessage('INIT_SUCCESS', sid, museTalkData.INIT_SUCCESS),
      VIDEO_FRAME: () => videoFrameMessage(sid, 'AAAAAWdC', 12),
      STATE_CHANGED: () => museTalkMessage('STATE_CHANGED', sid, museTalkData.STATE_CHANGED),
      ACTION_TRIGGERED: () => museTalkMessage('ACTION_TRIGGERED', sid, museTalkData.ACTION_TRIGGERED),
      CLOSE_ACK: () => museTalkMessage('CLOSE_ACK', sid, { reason: 'timeout' }),
      ERROR: () => museTalkError(sid, 'INTERNAL_ERROR', awkward, { expected: 'x' }),
      PING: () => museTalkMessage('PING', sid, {}),
    } satisfies { [K in MuseTalkServerType]: () => string },
  },
};

const sorted = (o: object): string[] => Object.keys(o).sort();

for (const [name, d] of Object.entries(dialects)) {
  const types = sorted(d.schemas);
  const validators = new Map(types.map((type) => [type, compileValidator(d.schemas[type]!)]));

  /** `json` parses to a message its type's schema accepts (ajv, the validators' compiler). */
  const conforms = (t: Test, type: string, json: string): Record<string, unknown> => {
    const msg = JSON.parse(json) as Record<string, unknown>;
    const validate = validators.get(type)!;
    t.ok(validate(msg), `${type} matches its schema: ${JSON.stringify(validate.errors)}`);
    t.equal(msg.type, type, `${type}: its own type`);
    return msg;
  };

  t.test(`${name}: a compiled serializer, a sample and a builder for every server message type`, async (t) => {
    t.ok(types.length > 0, 'the dialect has server messages');
    t.strictSame(sorted(d.serializers), types, 'one serializer per schema type, no more');
    for (const type of types) t.type(d.serializers[type], 'function', `${type}: a serializer`);
    t.strictSame(sorted(d.samples), types, 'a sample of each type (add one for a new type)');
    t.strictSame(sorted(d.builders), types, 'a builder of each type (add one for a new type)');
  });

  t.test(`${name}: each type round-trips through its serializer and satisfies its schema`, async (t) => {
    for (const type of types) {
      const sample = d.samples[type]!;
      const msg = conforms(t, type, d.serializers[type]!(sample));
      // Nothing dropped, nothing added, nothing changed: a property the schema lacks would vanish here.
      t.strictSame(msg, sample, `${type}: parses back to the message serialized`);
      // The schema check can fail: the same message without a required field is refused.
      const required = ((d.schemas[type] as { required?: string[] }).required ?? [])[0];
      t.ok(required, `${type}: the schema requires fields`);
      const broken = { ...msg };
      delete broken[required!];
      t.notOk(validators.get(type)!(broken), `${type} without "${required}" is refused`);
    }
  });

  t.test(`${name}: each builder goes through its type's compiled serializer`, async (t) => {
    for (const type of types) {
      const calls = t.capture(d.serializers, type, d.serializers[type]);
      const json = d.builders[type]!();
      const seen = calls();
      calls.restore();
      t.equal(seen.length, 1, `${type}: serialized once by its compiled serializer`);
      t.equal((seen[0] as { returned?: unknown } | undefined)?.returned, json, `${type}: the builder sends what the serializer wrote`);
      conforms(t, type, json);
    }
  });
}

t.test('a serializer refuses a message without a required field rather than send it', async (t) => {
  t.throws(() => frameStreamSerializers.stream_end({ type: 'stream_end', sequence_id: 'q', total_frames: 1, timestamp: iso }));
  t.throws(() => museTalkSerializers.STATE_CHANGED({ type: 'STATE_CHANGED', session_id: sid, data: { current_state: 'idle' } }));
});

t.test('compiling leaves the documents\' schemas as written', async (t) => {
  // fast-json-stringify sorts a `type` list in place; base64 fields compile with format "unsafe".
  t.strictSame(frameStreamServerSchemas.frame.properties.audio_data.type, ['string', 'null']);
  for (const d of Object.values(dialects)) t.notMatch(JSON.stringify(d.schemas), /unsafe/, 'no serializer-only format');
});

t.test('the per-frame messages keep their bytes', async (t) => {
  // The frame-stream worker's `frame` and the MuseTalk VIDEO_FRAME, byte for byte as they were built by hand.
  t.equal(
    frameMessageJson('q', 5, 50, '/9j/4AAQ', 'AAAA', now),
    JSON.stringify({
      type: 'frame', sequence_id: 'q', frame_index: 5, frame_data: '/9j/4AAQ', audio_data: 'AAAA', timestamp: iso,
      progress: { current_frame: 6, total_frames: 50 },
    }),
  );
  t.equal(frameMessageJson('q', 6, 50, '/9j/', null, now), `{"type":"frame","sequence_id":"q","frame_index":6,"frame_data":"/9j/","audio_data":null,"timestamp":"${iso}","progress":{"current_frame":7,"total_frames":50}}`);
  t.equal(videoFrameMessage(sid, 'AAAAAWdC', 12), `{"type":"VIDEO_FRAME","session_id":"${sid}","data":{"frame_data":"AAAAAWdC","frame_timestamp":480}}`);
  const big = Buffer.alloc(60_000, 7).toString('base64');
  t.equal(JSON.parse(videoFrameMessage(sid, big, 1)).data.frame_data, big, 'a full-size access unit');
});

t.test('no hand-built JSON left on the dialects\' outgoing paths', async (t) => {
  // The compiled protocol, video and worker modules next to this test (dist/): a new message
  // must be built by a dialect's serializer, not JSON.stringify.
  const dist = fileURLToPath(new URL('../../', import.meta.url));
  const files = [
    ...['widget-server.js', 'frame-stream.js', 'frame-stream-server.js', 'musetalk.js', 'musetalk-server.js'].map((f) => `src/protocol/${f}`),
    ...readdirSync(`${dist}src/video`).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js')).map((f) => `src/video/${f}`),
    'workers/frame-stream-worker.js', 'workers/musetalk-worker.js', 'workers/musetalk-idle-loop-worker.js',
  ];
  t.ok(files.includes('src/video/register.js'), 'video modules listed');
  for (const f of files) t.notMatch(readFileSync(`${dist}${f}`, 'utf8'), /JSON\.stringify\(/, `${f}: no JSON.stringify`);
});
