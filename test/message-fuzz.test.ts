import t from 'tap';
import { FUZZ_KINDS, fuzzMessages, type FuzzMessage } from './helpers/message-fuzz.js';

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
