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

t.test('audio fast path: taken for the shapes agents send, and always the general verdict', async (t) => {
  const { audioDeltaFast, parseJsonUpstream } = await import('./upstream-message.js');
  const pcm = Buffer.from(Array.from({ length: 4800 }, (_, i) => (i * 7) & 0xff));
  const b64 = pcm.toString('base64');
  // Ours (JSON.stringify), Python's json.dumps (", " and ": "), keys in another order, extra fields, pretty-printed.
  for (const text of [
    JSON.stringify({ type: 'audio_delta', data: b64 }),
    `{"type": "audio_delta", "data": "${b64}"}`,
    `{"data":"${b64}","responseId":"r1","type":"audio_delta"}`,
    `{\n  "type": "audio_delta",\n  "data" :\t"${b64}"\n}`,
  ]) {
    const fast = audioDeltaFast(Buffer.from(text));
    t.ok(fast?.equals(pcm), `fast path for ${text.slice(0, 40).replace(/\n/g, '⏎')}…`);
  }
  // Frames built to fool a fast path: escaped or duplicate keys, a nested "data", escapes in values.
  for (const text of [
    '{"type":"audio_delta","data":"AAAA","d\\u0061ta":""}',
    '{"type":"audio_delta","d\\u0061ta":"QUJD","data":"AAAA"}',
    '{"type":"audio_delta","meta":{"data":"AAAA"}}',
    '{"meta":{"data":"AAAA"},"type":"audio_delta","data":""}',
    '{"type":"audio_delta","data":"AAAA","data":"QUJD"}',
    '{"type":"audio_delta","x":"data","data":"AAAA"}',
    '{"typ\\u0065":"audio_delta","data":"AAAA"}',
    '{"type":"audio_delta","data":"AA\\u0041A"}',
    '{"type":"audio_delta","data":"AA\u0001A"}',
    '{"type":"audio_delta","data":"QUJ\u00e9"}',
    '{"type":"audio_delta","data":"AAAA"',
    '{"type":"audio_delta","data":"AAAA"}}',
    '[{"type":"audio_delta","data":"AAAA"}]',
    '{"type":"audio_delta","type":"transcript_delta","data":"AAAA"}',
    '{"type":"audio_delta","data":"AAAA" "x":1}',
  ]) {
    const buf = Buffer.from(text);
    t.equal(JSON.stringify(parseUpstream(buf, false)), JSON.stringify(parseJsonUpstream(buf)), text);
  }
  // Rng: a fixed LCG, so a failure replays.
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n; // an LCG's low bits repeat with short periods
  };
  const pick = <T>(a: T[]): T => a[rnd(a.length)]!;
  const ws = () => pick(['', '', ' ', '\n', '\t', '\r\n ']);
  const values = () => pick<string>([
    `"${b64}"`, '"AAAA"', '""', '"QUJD"', '"QUJDRA=="', '"AA=A"', '"!!!!"', '"abc"', '"-_-_"', '"QUJD\\nRA=="', '"QU\u0001JD"', '"QUJ\u00e9"',
    '"audio_delta"', '"data"', '42', 'null', 'true', '[]', '["AAAA"]', '{"data":"AAAA"}', '{"data":"AAAA"}', '""', '{"type":"audio_delta"}', '"d\\u0061ta"',
  ]);
  const keys = () => pick(['"type"', '"data"', '"data"', '"x"', '"responseId"', '"d\\u0061ta"', '"d\\u0061ta"', '"typ\\u0065"', '"meta"']);
  let fastTaken = 0;
  for (let k = 0; k < 20_000; k++) {
    const fields: string[] = [];
    if (rnd(8) !== 0) fields.push(`${ws()}"type"${ws()}:${ws()}${pick(['"audio_delta"', '"audio_delta"', '"transcript_delta"', '"audio_del\\u0074a"', '1'])}${ws()}`);
    if (rnd(8) !== 0) fields.push(`${ws()}"data"${ws()}:${ws()}${rnd(2) ? pick([`"${b64}"`, '"AAAA"', '"QUJDRA=="', '""']) : values()}${ws()}`);
    for (let i = rnd(4) - 1; i > 0; i--) fields.splice(rnd(fields.length + 1), 0, `${ws()}${keys()}${ws()}:${ws()}${values()}${ws()}`);
    let text = `${ws()}{${fields.join(',')}}${ws()}`;
    if (rnd(4) === 0) {
      // A mutation: a byte changed, removed or inserted anywhere.
      const at = rnd(text.length + 1);
      const ch = pick(['"', '\\', ':', ',', '{', '}', ' ', 'A', '\u0000', '\u00ff', '=']);
      text = pick([0, 1, 2]) === 0 ? text.slice(0, at) + ch + text.slice(at + 1) : pick([0, 1]) === 0 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at);
    }
    const buf = Buffer.from(text, pick(['utf8', 'utf8', 'latin1']) as BufferEncoding);
    const fast = audioDeltaFast(buf);
    if (fast) fastTaken++;
    const got = parseUpstream(buf, false);
    const want = parseJsonUpstream(buf);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`verdicts differ for ${JSON.stringify(text).slice(0, 300)}: ${JSON.stringify(got).slice(0, 200)} vs ${JSON.stringify(want).slice(0, 200)}`);
      break;
    }
  }
  t.ok(fastTaken > 1_000, `the fast path answered ${fastTaken} of 20,000 generated frames, each as the general path does`);
});
