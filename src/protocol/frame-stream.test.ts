import t from 'tap';
import { FrameStreamError, parseFrameStreamMessage } from './frame-stream.js';

const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
const failure = (raw: string, binary = false, maxAudioBytes = 12): string => {
  try {
    parseFrameStreamMessage(enc(raw), binary, maxAudioBytes);
    return 'OK';
  } catch (err) {
    return err instanceof FrameStreamError ? `${err.code}: ${err.message}` : `THROWN ${String(err)}`;
  }
};

t.test('valid messages', async (t) => {
  t.same(parseFrameStreamMessage(enc('{"type":"text_input","text":"hi"}'), false), { type: 'text_input', text: 'hi' });
  const a = parseFrameStreamMessage(enc('{"type":"audio_input","audio":"AQID"}'), false, 3);
  t.ok(a.type === 'audio_input' && a.audio.equals(Buffer.from([1, 2, 3])), 'any byte count (a WAV file may be odd)');
});

t.test('each kind of bad input: its code and message', async (t) => {
  const cases: Array<[string, string, boolean?]> = [
    ['{"type":"text_input"}', 'BINARY_NOT_SUPPORTED: binary messages are not supported; send JSON text', true],
    ['{"type":', 'INVALID_JSON: message is not valid JSON'],
    ['[1]', 'INVALID_MESSAGE: message must be a JSON object'],
    ['{"text":"hi"}', 'MISSING_FIELD: message needs a "type"'],
    ['{"type":7}', 'MISSING_FIELD: message needs a "type"'],
    ['{"type":"dance"}', 'UNKNOWN_TYPE: unknown message type "dance"'],
    ['{"type":"toString"}', 'UNKNOWN_TYPE: unknown message type "toString"'],
    ['{"type":"text_input"}', 'INVALID_FIELD: text_input needs a non-empty "text" string'],
    ['{"type":"text_input","text":" \\n"}', 'INVALID_FIELD: text_input needs a non-empty "text" string'],
    ['{"type":"audio_input"}', 'INVALID_AUDIO: audio_input needs "audio": base64 PCM16 16 kHz mono or a WAV file'],
    ['{"type":"audio_input","audio":""}', 'INVALID_AUDIO: audio_input needs "audio": base64 PCM16 16 kHz mono or a WAV file'],
    ['{"type":"audio_input","audio":"A!=="}', 'INVALID_AUDIO: "audio" is not valid base64'],
    ['{"type":"audio_input","audio":"AAAAAAAAAAAAAAAAAAAA"}', 'INVALID_AUDIO: "audio" of about 15 bytes exceeds the 12-byte limit'],
    ['{"type":"audio_input","audio":"!!!!!!!!!!!!!!!!!!!!!!!"}', 'INVALID_AUDIO: "audio" of about 17 bytes exceeds the 12-byte limit'],
  ];
  for (const [raw, want, binary] of cases) t.equal(failure(raw, binary), want, raw);
});
