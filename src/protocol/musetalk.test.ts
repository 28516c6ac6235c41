import t from 'tap';
import { MuseTalkError, parseMuseTalkMessage } from './musetalk.js';

const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
const parse = (msg: unknown) => parseMuseTalkMessage(enc(typeof msg === 'string' ? msg : JSON.stringify(msg)), false);
const failure = (msg: unknown): string => {
  try {
    parse(msg);
    return 'OK';
  } catch (err) {
    if (!(err instanceof MuseTalkError)) return `THROWN ${String(err)}`;
    return `${err.code}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}`;
  }
};
const sid = '6f1c2b8e-1111-4222-8333-444455556666';
const pcm = Buffer.alloc(1280, 3).toString('base64');
const generate = (audio: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({ type: 'GENERATE', session_id: sid, data: { audio_chunk: audio, ...rest } });

t.test('valid messages', async (t) => {
  t.same(parse({ type: 'INIT', session_id: sid, data: { user_id: 'u', video_config: { resolution: '512x512', fps: 25 } } }), { type: 'INIT', sessionId: sid, userId: 'u', authToken: null });
  const g = parse(generate({ format: 'pcm_s16le', sample_rate: 16000, channels: 1, duration_ms: 40, data: pcm }, { video_state: { type: 'speaking', base_video: 'v' } }));
  t.ok(g.type === 'GENERATE' && g.pcm.length === 1280 && g.videoState?.state === 'speaking' && g.videoState.video === 'v');
  t.same(parse({ type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'idle' } }), { type: 'STATE_CHANGE', sessionId: sid, state: 'idle', video: null });
  t.same(parse({ type: 'ACTION', session_id: 'x', data: { action_index: 2 } }), { type: 'ACTION', sessionId: 'x', index: 2 });
  t.same(parse({ type: 'CLOSE' }), { type: 'CLOSE', sessionId: undefined });
});

t.test('each kind of bad input: INVALID_MESSAGE, the failing field named, audio with details', async (t) => {
  const audio = (field: string) => ` {"reason":"INVALID_AUDIO","field":"${field}"}`;
  const cases: Array<[unknown, string]> = [
    ['{nope', 'INVALID_MESSAGE: message is not valid JSON'],
    ['[]', 'INVALID_MESSAGE: message must be an object'],
    [{ type: 'DANCE', data: 5 }, 'INVALID_MESSAGE: "data" must be an object'],
    [{ type: 'DANCE' }, 'INVALID_MESSAGE: unknown message type "DANCE"'],
    [{ data: {} }, 'INVALID_MESSAGE: message needs a "type"'],
    [{ type: 'INIT', data: { video_config: { fps: 30 }, user_id: 5 } }, 'INVALID_MESSAGE: video_config.fps must be 25'],
    [{ type: 'INIT', data: { user_id: 5, auth_token: 7 } }, 'INVALID_MESSAGE: user_id must be a string'],
    [{ type: 'GENERATE', data: {} }, 'INVALID_MESSAGE: audio_chunk must be an object'],
    [generate({ format: 'wav' }), `INVALID_MESSAGE: audio_chunk.format must be "pcm_s16le"${audio('format')}`],
    [generate({ sample_rate: 44100, data: 'AAAA' }), `INVALID_MESSAGE: audio_chunk.sample_rate must be 16000${audio('sample_rate')}`],
    [generate({ duration_ms: 0, data: 'AAAA' }), `INVALID_MESSAGE: audio_chunk.duration_ms must be a number of milliseconds from 0 to 10000${audio('duration_ms')}`],
    [generate({}), `INVALID_MESSAGE: audio_chunk.data must be base64 PCM16${audio('data')}`],
    [generate({ data: '%%%%' }), `INVALID_MESSAGE: audio_chunk.data is not valid base64${audio('data')}`],
    [generate({ data: 'AA==' }), `INVALID_MESSAGE: PCM16 needs an even number of bytes, got 1${audio('data')}`],
    [generate({ data: 'A'.repeat(426_672) }), `INVALID_MESSAGE: audio_chunk.data exceeds 320000 bytes${audio('data')}`],
    [generate({ data: pcm, duration_ms: 20 }), `INVALID_MESSAGE: audio_chunk.duration_ms 20 does not match its 1280 bytes (40 ms of PCM16 16 kHz mono)${audio('duration_ms')}`],
    [generate({ data: pcm }, { video_state: { base_video: 'v' } }), 'INVALID_MESSAGE: video_state.type must be one of idle, speaking, action'],
    [generate({ data: pcm }, { video_state: { type: 'idle', base_video: '' } }), 'INVALID_MESSAGE: video_state.base_video must be a video name'],
    [{ type: 'STATE_CHANGE', data: { target_state: 'idle', base_video: 'x'.repeat(201) } }, 'INVALID_MESSAGE: base_video must be a video name'],
    [{ type: 'ACTION', data: { action_index: 3 } }, 'INVALID_MESSAGE: action_index must be 1 or 2'],
  ];
  for (const [msg, want] of cases) t.equal(failure(msg), want, typeof msg === 'string' ? msg : JSON.stringify(msg).slice(0, 120));
});
