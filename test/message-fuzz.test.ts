import t from 'tap';
import { FUZZ_KINDS, fuzzMessages, type FuzzMessage } from './helpers/message-fuzz.js';
import { ERROR_CODES } from '../src/protocol/error-codes.js';
import { ProtocolError, parseClientMessage } from '../src/protocol/widget-client.js';
import { FrameStreamError, parseFrameStreamMessage } from '../src/protocol/frame-stream.js';
import { MuseTalkError, parseMuseTalkMessage } from '../src/protocol/musetalk.js';

const pcm = Buffer.alloc(4800, 7).toString('base64');
const samples = [
  { type: 'audio_delta', data: pcm },
  { type: 'transcript_delta', delta: 'Hello ', role: 'assistant', itemId: 'item_1' },
  { type: 'tool_call', name: 'wave', arguments: { hand: 'left', times: 2 } },
];

const run = (seed: number, count: number): FuzzMessage[] => [...fuzzMessages(samples, { seed, count, maxStringBytes: 4096 })];
const bytes = (m: FuzzMessage): string => (typeof m.data === 'string' ? `t:${m.data}` : `b:${m.data.toString('hex')}`);

t.test('the same seed gives the same sequence, another seed another one', async (t) => {
  const a = run(7, 300).map(bytes);
  t.same(run(7, 300).map(bytes), a);
  t.not(run(8, 300).map(bytes).join('\n'), a.join('\n'));
});

t.test('every kind appears within two cycles, with its promised shape', async (t) => {
  const msgs = run(1, 2 * (FUZZ_KINDS.length + 1) * 20);
  for (const kind of FUZZ_KINDS) t.ok(msgs.some((m) => m.kind === kind), kind);
  const parses = (s: string | Buffer): unknown => {
    try {
      return JSON.parse(String(s));
    } catch {
      return undefined;
    }
  };
  for (const m of msgs) {
    if (m.kind === 'well-formed') t.ok(samples.some((s) => JSON.stringify(s) === m.data), 'well-formed is a sample');
    if (m.kind === 'binary') t.ok(Buffer.isBuffer(m.data), 'binary is a Buffer');
    if (m.kind === 'truncated-json') t.equal(parses(m.data), undefined, `truncated does not parse: ${m.note}`);
    if (m.kind === 'deep-nesting') t.type(parses(m.data), 'object', `deep nesting is valid JSON: ${m.note}`);
    if (m.kind === 'odd-pcm') {
      const msg = parses(m.data) as { data: string };
      t.equal(Buffer.from(msg.data, 'base64').length % 2, 1, 'odd number of PCM bytes');
    }
  }
  const texts = msgs.filter((m) => typeof m.data === 'string').map((m) => m.data as string);
  t.ok(texts.some((s) => s.includes('{"toString":1}')), 'a toString trap');
  t.ok(texts.some((s) => s.includes('"__proto__"')), 'a __proto__ key');
  t.ok(texts.some((s) => /:1e400|:-1e400/.test(s)), 'a number JSON.stringify cannot write');
});

t.test('a kinds cycle restricts and weights the kinds', async (t) => {
  const msgs = [...fuzzMessages(samples, { seed: 3, count: 30, kinds: ['wrong-type', 'wrong-type', 'binary'] })];
  t.equal(msgs.filter((m) => m.kind === 'wrong-type').length, 20);
  t.equal(msgs.filter((m) => m.kind === 'binary').length, 10);
});

/**
 * The same fuzz, fed to the validators of the three client dialects (compiled from their
 * schemas): every message parses, or fails with its dialect's error and a known code, never
 * another exception; well-formed ones parse; accepted audio is strict base64 (it round-trips)
 * and, for PCM16, whole samples; bad audio is refused as INVALID_AUDIO.
 */
t.test('client dialects: every fuzzed message parses or gets a coded error of its dialect', async (t) => {
  const sid = '6f1c2b8e-1111-4222-8333-444455556666';
  const pcm16 = Buffer.alloc(1280, 5).toString('base64');
  // Fuzzed JSON and parse results, read loosely: the checks below are on their values.
  type Json = Record<string, any>;
  interface Dialect {
    name: string;
    samples: Json[];
    parse(raw: ArrayBuffer, binary: boolean): Outcome;
    /** For accepted audio: [the base64 sent, the bytes accepted, whether they must be whole PCM16 samples]. */
    audio(sent: Json, parsed: any): [string, Buffer, boolean] | null;
  }
  const dialects: Dialect[] = [
    {
      name: 'widget',
      samples: [{ type: 'text', data: 'hello', userId: 'u' }, { type: 'audio', data: pcm16 }, { type: 'ping', timestamp: 1 }, { type: 'audio_stream_start', sampleRate: 24000 }],
      parse: (raw, binary) => outcome(() => parseClientMessage(raw, binary, 1 << 20), ProtocolError, (e) => [e.code, e.code === 'INVALID_AUDIO']),
      audio: (sent, parsed) => (parsed.type === 'audio' ? [sent.data, parsed.pcm, true] : null),
    },
    {
      name: 'frame-stream',
      samples: [{ type: 'text_input', text: 'hello' }, { type: 'audio_input', audio: pcm16 }],
      parse: (raw, binary) => outcome(() => parseFrameStreamMessage(raw, binary, 1 << 20), FrameStreamError, (e) => [e.code, e.code === 'INVALID_AUDIO']),
      // A WAV file may have an odd length: its header is checked after parsing.
      audio: (sent, parsed) => (parsed.type === 'audio_input' ? [sent.audio, parsed.audio, false] : null),
    },
    {
      name: 'MuseTalk',
      samples: [
        { type: 'INIT', session_id: sid, data: { user_id: 'u', video_config: { resolution: '512x512', fps: 25 } } },
        { type: 'GENERATE', session_id: sid, data: { audio_chunk: { format: 'pcm_s16le', sample_rate: 16000, channels: 1, duration_ms: 40, data: pcm16 } } },
        { type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'speaking', base_video: 'v' } },
        { type: 'ACTION', session_id: sid, data: { action_index: 1 } },
      ],
      parse: (raw, binary) => outcome(() => parseMuseTalkMessage(raw, binary), MuseTalkError, (e) => [e.code, e.details?.reason === 'INVALID_AUDIO']),
      audio: (sent, parsed) => (parsed.type === 'GENERATE' ? [sent.data.audio_chunk.data, parsed.pcm, true] : null),
    },
  ];
  const known = new Set<string>(ERROR_CODES);
  for (const d of dialects) {
    const counts = new Map<string, number>();
    let unexpected = 0;
    for (const m of fuzzMessages(d.samples, { seed: 11, count: 3000, maxStringBytes: 1 << 16 })) {
      const binary = typeof m.data !== 'string';
      const raw = new Uint8Array(binary ? (m.data as Buffer) : Buffer.from(m.data as string)).buffer;
      const r = d.parse(raw, binary);
      const got = r.ok ? 'OK' : r.audio ? 'INVALID_AUDIO' : r.code;
      counts.set(got, (counts.get(got) ?? 0) + 1);
      const audio = r.ok ? d.audio(JSON.parse(m.data as string) as Json, r.value) : null;
      const why = !r.ok && !known.has(r.code) ? 'a code not in error-codes.ts'
        : m.kind === 'well-formed' && !r.ok ? 'a well-formed message refused'
        : (m.kind === 'not-json' || m.kind === 'truncated-json' || m.kind === 'binary') && r.ok ? 'accepted'
        : audio && audio[1].toString('base64') !== audio[0] ? 'audio accepted that is not strict base64'
        : audio && audio[2] && audio[1].length % 2 !== 0 ? 'PCM16 accepted with an odd byte count'
        : null;
      if (why && unexpected++ < 5) t.fail(`${d.name}: ${m.kind} (${m.note}) → ${got}: ${why}`);
    }
    t.equal(unexpected, 0, `${d.name}: ${JSON.stringify(Object.fromEntries(counts))}`);
    t.ok((counts.get('INVALID_AUDIO') ?? 0) > 0 && (counts.get('OK') ?? 0) > 0, `${d.name}: some audio refused, some messages accepted`);
  }
});

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; audio: boolean };
function outcome<E extends Error>(parse: () => unknown, type: new (...args: never[]) => E, describe: (e: E) => [string, boolean]): Outcome {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (!(err instanceof type)) throw err;
    const [code, audio] = describe(err);
    return { ok: false, code, audio };
  }
}
