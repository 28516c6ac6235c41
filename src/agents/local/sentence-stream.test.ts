import t from 'tap';
import { SentenceStream, speakable } from './sentence-stream.js';

function feed(tokens: string[]): { at: number; sentence: string }[] {
  const s = new SentenceStream();
  const out: { at: number; sentence: string }[] = [];
  tokens.forEach((tok, i) => s.push(tok).forEach((sentence) => out.push({ at: i, sentence })));
  s.end().forEach((sentence) => out.push({ at: tokens.length, sentence }));
  return out;
}

t.test('a sentence is released as soon as the next one starts', async (t) => {
  const got = feed(['Hel', 'lo!', ' How', ' can', ' I help', ' you?', ' Ask', ' away']);
  t.same(got, [
    { at: 2, sentence: 'Hello!' },
    { at: 6, sentence: 'How can I help you?' },
    { at: 8, sentence: 'Ask away' },
  ]);
});

t.test('abbreviations and numbers do not end sentences; spaces at token edges are kept', async (t) => {
  t.same(feed(['Dr', '. Smith', ' paid 3', '.50 euros', '. Then', ' left.']).map((x) => x.sentence), ['Dr. Smith paid 3.50 euros.', 'Then left.']);
  t.same(feed(['one ', 'two']).map((x) => x.sentence), ['one two']);
});

t.test('a line break completes a sentence at once; a long first sentence is cut at its first clause', async (t) => {
  t.same(feed(['First line\n', 'second']), [{ at: 0, sentence: 'First line' }, { at: 2, sentence: 'second' }]);
  const long = feed(['Well, the museum is open every day of the week,', ' except on public holidays', ' and the first Monday of the month, when it closes.']);
  t.equal(long[0]!.sentence, 'Well, the museum is open every day of the week,');
  t.equal(long[0]!.at, 1, 'the first clause goes to TTS before the sentence is complete');
});

t.test('markdown habits are not read out', async (t) => {
  t.equal(speakable('**Opening hours**: nine to six.'), 'Opening hours: nine to six.');
  t.equal(speakable('- `tickets` cost _twelve_ euros'), 'tickets cost twelve euros');
  t.equal(speakable('## Hours'), 'Hours');
  t.equal(speakable('snake_case stays'), 'snake_case stays');
  t.same(feed(['**', '\n', 'Yes.']).map((x) => x.sentence), ['Yes.'], 'pieces with nothing to say are dropped');
});
