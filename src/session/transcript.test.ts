import t from 'tap';
import { TurnTranscript } from './transcript.js';

t.test('fragments become whole words without spaces, with increasing offsets', async (t) => {
  const tr = new TurnTranscript();
  const words = [...tr.push(' Hel'), ...tr.push('lo wor'), ...tr.push('ld, how'), ...tr.push(' are'), ...tr.flush()];
  t.same(words.map((w) => w.text), ['Hello', 'world,', 'how', 'are']);
  t.equal(words[0]!.startMs, 0);
  for (let i = 1; i < words.length; i++) t.equal(words[i]!.startMs, words[i - 1]!.endMs);
  t.equal(tr.text, 'Hello world, how are');
});

t.test('spokenBy gives the words started by an offset', async (t) => {
  const tr = new TurnTranscript();
  tr.push('one two three four ');
  t.equal(tr.spokenBy(0), '');
  t.equal(tr.spokenBy(1), 'one');
  t.equal(tr.spokenBy(10_000), 'one two three four');
});

t.test('text includes an unfinished trailing word', async (t) => {
  const tr = new TurnTranscript();
  tr.push('Hi the');
  t.equal(tr.text, 'Hi the');
});
