import t from 'tap';
import { MAX_TEXT_CHARS, parseUpstream } from './upstream-message.js';

const parse = (msg: unknown) => parseUpstream(Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)), false);

t.test('the crash of issue 13: an error whose message is a toString trap', async (t) => {
  const r = parse('{"type":"error","message":{"toString":1}}');
  t.same(r, { kind: 'message', msg: { type: 'error', code: 'AGENT_ERROR', message: 'the remote agent reported an error' } });
  t.same(parse('{"type":"error","error":{"valueOf":1,"toString":1},"code":{"toString":1}}'), r);
});

t.test('reference spellings and ours give the same messages', async (t) => {
  t.same(parse({ type: 'transcript_delta', delta: 'Hel', role: 'assistant', itemId: 'i2', previousItemId: 'i1' }), {
    kind: 'message', msg: { type: 'transcript_delta', text: 'Hel', role: 'assistant', itemId: 'i2', previousItemId: 'i1' },
  });
  t.same(parse({ type: 'transcript_delta', text: ' lo' }), { kind: 'message', msg: { type: 'transcript_delta', text: ' lo', role: 'assistant', itemId: undefined, previousItemId: undefined } });
  t.match(parse({ type: 'transcript_delta', delta: 'hi', role: 'user', itemId: 'u1' }), { msg: { role: 'user', text: 'hi', itemId: 'u1' } });
  t.match(parse({ type: 'transcript_delta', delta: 'a', text: 'b', role: null }), { msg: { text: 'a', role: 'assistant' } }, 'the reference field wins; null role is absent');
  t.match(parse({ type: 'user_transcript', transcript: 'hello' }), { msg: { type: 'user_transcript', text: 'hello' } });
  t.match(parse({ type: 'user_transcript', text: 'hello' }), { msg: { type: 'user_transcript', text: 'hello' } });
  t.match(parse({ type: 'response_end', transcript: 'Hi there.', itemId: 'i2' }), { msg: { type: 'response_end', transcript: 'Hi there.', itemId: 'i2' } });
  t.match(parse({ type: 'response_start', session_id: 'abc' }), { msg: { type: 'response_start', responseId: undefined } });
  t.match(parse({ type: 'error', error: 'quota exceeded' }), { msg: { code: 'AGENT_ERROR', message: 'quota exceeded' } });
  t.match(parse({ type: 'error', error: { message: 'rate limited', code: 'RATE_LIMIT' } }), { msg: { code: 'RATE_LIMIT', message: 'rate limited' } });
  t.match(parse({ type: 'error', code: 'UPSTREAM_QUOTA', message: 'quota' }), { msg: { code: 'UPSTREAM_QUOTA', message: 'quota' } });
  t.match(parse({ type: 'error', code: 'lower-case code', message: 'x'.repeat(5000) }), { msg: { code: 'AGENT_ERROR', message: /^x{499}…$/ } });
  t.match(parse({ type: 'tool_call', name: 'wave', arguments: '{"hand":"left"}' }), { msg: { arguments: { hand: 'left' } } });
  t.match(parse({ type: 'tool_call', name: 'wave' }), { msg: { arguments: {} } });
});

t.test('audio: padded base64 only; odd byte counts pass (the session carries the odd byte)', async (t) => {
  const pcm = Buffer.from([1, 2, 3]);
  const r = parse({ type: 'audio_delta', data: pcm.toString('base64') });
  t.ok(r.kind === 'message' && r.msg.type === 'audio_delta' && r.msg.pcm.equals(pcm));
  for (const data of ['!!!!', 'abc', 'QUJD\nRA==', '-_-_', 'AA==AA==', 42, null, { toString: 1 }, ['AAAA']]) {
    t.equal(parse({ type: 'audio_delta', data }).kind, 'invalid', `data ${JSON.stringify(data)}`);
  }
});

t.test('invalid: frames, non-objects, required fields, sizes, depth', async (t) => {
  t.equal(parseUpstream(Buffer.from('{"type":"interrupted"}'), true).kind, 'invalid', 'binary');
  for (const raw of ['not json', '{"type":', 'null', '[]', '"x"', '1e400']) t.equal(parse(raw).kind, 'invalid', raw);
  for (const msg of [
    { type: 'transcript_delta' },
    { type: 'transcript_delta', delta: { toString: 1 } },
    { type: 'transcript_delta', delta: 'x', role: 'system' },
    { type: 'transcript_delta', delta: 'x'.repeat(MAX_TEXT_CHARS + 1) },
    { type: 'user_transcript', transcript: 5 },
    { type: 'tool_call', name: '' },
    { type: 'tool_call', name: 'x'.repeat(129) },
    { type: 'tool_call', name: 'x', arguments: [1] },
    { type: 'tool_call', name: 'x', arguments: 'not json' },
    { type: 'tool_call', name: 'x', arguments: { big: 'x'.repeat(70_000) } },
  ]) {
    t.equal(parse(msg).kind, 'invalid', JSON.stringify(msg).slice(0, 80));
  }
  const deep = `{"type":"tool_call","name":"x","arguments":${'{"a":'.repeat(100_000)}0${'}'.repeat(100_000)}}`;
  t.equal(parse(deep).kind, 'invalid', '100,000 levels of arguments');
});

t.test('unknown types (also prototype names) are ignored; wrong optional fields are dropped', async (t) => {
  for (const type of ['mystery', '__proto__', 'constructor', 'toString', 5, { toString: 1 }]) t.same(parse({ type }), { kind: 'unknown' }, String(JSON.stringify(type)));
  t.same(parse({ foo: 1 }), { kind: 'unknown' });
  t.same(parse({ type: 'response_start', responseId: { toString: 1 } }), { kind: 'message', msg: { type: 'response_start', responseId: undefined } });
  t.match(parse({ type: 'transcript_delta', delta: 'x', itemId: ['a'], previousItemId: 'p'.repeat(300) }), { msg: { itemId: undefined, previousItemId: undefined } });
  t.match(parse({ type: 'response_end', transcript: 42 }), { msg: { type: 'response_end', transcript: undefined } });
});
