import t from 'tap';
import { parseClientMessage, ProtocolError } from './widget-client.js';

const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
const code = (raw: string, binary = false, max = 1024): string => {
  try {
    parseClientMessage(enc(raw), binary, max);
    return 'OK';
  } catch (err) {
    return err instanceof ProtocolError ? err.code : `THROWN ${String(err)}`;
  }
};

t.test('valid messages', async (t) => {
  t.same(parseClientMessage(enc('{"type":"text","data":"hi","userId":"u","timestamp":1}'), false, 1024), { type: 'text', data: 'hi' });
  const audio = parseClientMessage(enc(`{"type":"audio","data":"${Buffer.from([1, 0, 2, 0]).toString('base64')}"}`), false, 1024);
  t.ok(audio.type === 'audio' && audio.pcm.equals(Buffer.from([1, 0, 2, 0])));
  for (const type of ['audio_stream_start', 'audio_stream_end', 'interrupt', 'ping']) t.same(parseClientMessage(enc(`{"type":"${type}"}`), false, 1024), { type });
});

t.test('every kind of bad input has its code', async (t) => {
  t.equal(code('nope'), 'INVALID_JSON');
  t.equal(code('{"type":"ping"}', true), 'BINARY_NOT_SUPPORTED');
  t.equal(code(`{"type":"text","data":"${'x'.repeat(2000)}"}`), 'MESSAGE_TOO_LARGE');
  t.equal(code('null'), 'INVALID_MESSAGE');
  t.equal(code('{}'), 'MISSING_FIELD');
  t.equal(code('{"type":null}'), 'MISSING_FIELD');
  t.equal(code('{"type":["text"]}'), 'INVALID_FIELD');
  t.equal(code('{"type":"jump"}'), 'UNKNOWN_TYPE');
  t.equal(code('{"type":"audio","data":"AAA"}'), 'INVALID_AUDIO', 'length not a multiple of 4');
  t.equal(code('{"type":"audio","data":"AA=A"}'), 'INVALID_AUDIO', 'padding in the middle');
  t.equal(code('{"type":"audio","data":"AA=="}'), 'INVALID_AUDIO', 'odd byte count');
  t.equal(code('{"type":"audio","data":"AAEC"}'), 'INVALID_AUDIO', '3 bytes');
  t.equal(code('{"type":"audio","data":"AAEC\\n"}'), 'INVALID_AUDIO', 'whitespace');
});

t.test('the messages say what is wrong', async (t) => {
  const message = (raw: string): string => {
    try {
      parseClientMessage(enc(raw), false, 1024);
      return 'OK';
    } catch (err) {
      return (err as Error).message;
    }
  };
  t.equal(message('{"type":"text"}'), '"text" needs field "data"');
  t.equal(message('{"type":"audio","data":null}'), '"audio" needs field "data"');
  t.equal(message('{"type":"text","data":5}'), '"data" must be a string, got number');
  t.equal(message('{"type":"text","data":" \\t"}'), '"data" must not be empty');
  t.equal(message('{"type":"audio","data":""}'), 'audio data is empty');
  t.equal(message('{"type":"audio","data":"A-=="}'), 'audio data is not valid base64');
  t.equal(message('{"type":"audio","data":"AAAA"}'), 'PCM16 needs an even number of bytes, got 3');
  t.equal(message(`{"type":"${'x'.repeat(100)}"}`), `unknown message type "${'x'.repeat(64)}"`);
  t.equal(message('{"type":"text","data":"hi","userId":5,"timestamp":"x"}'), 'OK', 'fields the contract ignores are not checked');
});
