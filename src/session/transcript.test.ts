import t from 'tap';
import { TurnTranscript, joinLikeWidget } from './transcript.js';

const CPS = 16;
const msPerChar = 1000 / CPS;

t.test('raw fragments become whole words without spaces, with estimated offsets', async (t) => {
  const tr = new TurnTranscript(CPS);
  const words = [...tr.push({ text: ' Hel' }), ...tr.push({ text: 'lo wor' }), ...tr.push({ text: 'ld, how' }), ...tr.push({ text: ' are' }), ...tr.flush()];
  t.same(words.map((w) => w.text), ['Hello', 'world,', 'how', 'are']);
  t.equal(words[0]!.startMs, 0);
  t.equal(words[0]!.endMs, 6 * msPerChar, 'a word lasts its characters plus one space at the configured rate');
  for (let i = 1; i < words.length; i++) t.equal(words[i]!.startMs, words[i - 1]!.endMs);
  t.equal(tr.text, 'Hello world, how are');
});

t.test('a word is sent as soon as it is complete, not at the end', async (t) => {
  const tr = new TurnTranscript(CPS);
  t.same(tr.push({ text: 'One' }).map((w) => w.text), [], 'unfinished');
  t.same(tr.push({ text: ' two' }).map((w) => w.text), ['One']);
  t.same(tr.flush().map((w) => w.text), ['two']);
});

t.test('word timings from the agent are used as they are, never decreasing', async (t) => {
  const tr = new TurnTranscript(CPS);
  const a = tr.push({ text: 'Hello, world!', words: [{ startMs: 160, endMs: 660 }, { startMs: 890, endMs: 1460 }] });
  const b = tr.push({ text: ' Back again.', words: [{ startMs: 100, endMs: 200 }, { startMs: 1700, endMs: 2000 }] });
  t.same([...a, ...b].map((w) => [w.text, w.startMs, w.endMs]), [
    ['Hello,', 160, 660], ['world!', 890, 1460], ['Back', 890, 890], ['again.', 1700, 2000],
  ]);
});

t.test('timings that do not fit the words are ignored: offsets are estimated instead', async (t) => {
  const tr = new TurnTranscript(CPS);
  const words = tr.push({ text: 'one two ', words: [{ startMs: 0, endMs: Number.NaN }] });
  t.same(words.map((w) => w.text), ['one', 'two']);
  t.equal(words[1]!.startMs, 4 * msPerChar);
});

t.test('joined as the widget joins: no space before punctuation', async (t) => {
  t.equal(joinLikeWidget(['Well', ',', 'yes', '...', 'ok', ')']), 'Well, yes... ok)');
  const tr = new TurnTranscript(CPS);
  tr.push({ text: 'Hello , world' });
  tr.flush();
  t.equal(tr.text, 'Hello, world');
});

t.test('spokenBy gives the words started by an offset', async (t) => {
  const tr = new TurnTranscript(CPS);
  tr.push({ text: 'one two three four ' });
  t.equal(tr.spokenBy(0), '');
  t.equal(tr.spokenBy(1), 'one');
  t.equal(tr.spokenBy(10_000), 'one two three four');
});

t.test('an endless unbroken fragment is cut into bounded words', async (t) => {
  const tr = new TurnTranscript(CPS);
  const words = tr.push({ text: 'x'.repeat(2500) });
  t.same(words.map((w) => w.text.length), [1000, 1000]);
  t.same(tr.flush().map((w) => w.text.length), [500]);
});

t.test('a one-word reply still waiting for its end counts as text (the final transcript is not added again)', async (t) => {
  const tr = new TurnTranscript(16);
  t.notOk(tr.hasText, 'nothing yet');
  t.same(tr.push({ text: ' Alive.' }), [], 'the word is not complete before the end');
  t.ok(tr.hasText, 'but the agent has streamed text');
  t.same(tr.flush().map((w) => w.text), ['Alive.']);
  t.equal(tr.text, 'Alive.');
});
