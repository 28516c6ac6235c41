import t from 'tap';
import { splitSentences, splitWords } from './sentences.js';

t.test('splitSentences', async (t) => {
  t.same(splitSentences('Hello! How can I help you today?'), ['Hello!', 'How can I help you today?']);
  t.same(splitSentences('It costs 3.50 euros. Dr. Smith and Mr. J. Doe agree, e.g. on this. Done'), [
    'It costs 3.50 euros.',
    'Dr. Smith and Mr. J. Doe agree, e.g. on this.',
    'Done',
  ]);
  t.same(splitSentences('Wait... what? "Quoted." Next one'), ['Wait... what?', '"Quoted."', 'Next one']);
  t.same(splitSentences('first item\n- second item\n\nthird'), ['first item', '- second item', 'third'], 'line breaks end sentences');
  t.same(splitSentences('ends with lowercase. and goes on'), ['ends with lowercase. and goes on'], 'no capital after the stop: not an end');
  t.same(splitSentences('  \n  '), []);
});

t.test('long sentences are cut at clause breaks, then spaces', async (t) => {
  const long = 'alpha beta gamma, '.repeat(30).trim();
  const pieces = splitSentences(long, 100);
  t.ok(pieces.length >= 5);
  for (const p of pieces) t.ok(p.length <= 100, `${p.length} chars`);
  t.equal(pieces.join(' '), long, 'nothing lost');
  t.match(pieces[0]!, /,$/, 'cut after a comma');
  const unbroken = 'x'.repeat(250);
  t.same(splitSentences(unbroken, 100).map((p) => p.length), [100, 100, 50]);
});

t.test('a long first sentence is cut at its first clause break, for early audio', async (t) => {
  const reply = 'You said: The weather is really quite lovely today, do you not think so, my dear friend? Yes, it is.';
  t.same(splitSentences(reply), ['You said: The weather is really quite lovely today,', 'do you not think so, my dear friend?', 'Yes, it is.']);
  t.same(splitSentences('Yes, that is right, and it is a fairly long sentence without much else to say in it.'), [
    'Yes, that is right,',
    'and it is a fairly long sentence without much else to say in it.',
  ], 'a break too early to matter is skipped');
  const noBreak = 'This opening sentence is long and has no comma anywhere in it at all to cut at.';
  t.same(splitSentences(noBreak), [noBreak], 'never cut mid-clause');
  t.same(splitSentences(reply, 200, 1000).length, 2, 'the cut is a knob');
});

t.test('splitWords', async (t) => {
  t.same(splitWords('  Hello,   world!  '), ['Hello,', 'world!']);
  t.same(splitWords(''), []);
});
