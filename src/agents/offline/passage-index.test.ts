import t from 'tap';
import { PassageIndex, splitPassages, stem, terms, words } from './passage-index.js';

t.test('words and stems', async (t) => {
  t.same(words("Café's OPENING-hours, 24/7!"), ["cafe's", 'opening', 'hours', '24', '7']);
  const pairs: Array<[string, string]> = [
    ['refunds', 'refund'], ['refunded', 'refund'], ['refunding', 'refund'],
    ['shipping', 'ship'], ['shipped', 'ship'], ['ships', 'ship'],
    ['policies', 'policy'], ['addresses', 'address'], ['address', 'address'],
    ['status', 'status'], ['bus', 'bus'], ["company's", 'company'],
  ];
  for (const [word, expected] of pairs) t.equal(stem(word), expected, word);
  t.same(terms('What is your refund policy?'), ['refund', 'policy'], 'stop words dropped');
  t.same(terms('can you tell me about it'), [], 'a question wrapper alone has no terms');
});

const KB = `# Shipping

We ship to all countries in Europe. Delivery takes 3 to 5 working days.

# Returns

You can return any item within **30 days** for a full [refund](https://example.com/refunds).

How do I track my order?

Use the tracking link in your confirmation email.

Q: Do you have a physical store?
A: Yes, our store is at 12 Main Street, open Monday to Saturday.

- Gift cards never expire.
- Gift cards cannot be exchanged for cash.
`;

t.test('splitPassages: headings, FAQ questions, Q/A, markdown', async (t) => {
  const passages = splitPassages(KB);
  t.same(passages, [
    { title: 'Shipping', text: 'We ship to all countries in Europe. Delivery takes 3 to 5 working days.' },
    { title: 'Returns', text: 'You can return any item within 30 days for a full refund.' },
    { title: 'Returns — How do I track my order?', text: 'Use the tracking link in your confirmation email.' },
    { title: 'Returns — Do you have a physical store?', text: 'Yes, our store is at 12 Main Street, open Monday to Saturday.' },
    { title: 'Returns', text: 'Gift cards never expire. Gift cards cannot be exchanged for cash.' },
  ]);
});

t.test('long paragraphs are cut at sentence ends', async (t) => {
  const sentence = 'This sentence is about the warranty terms of our products. ';
  const passages = splitPassages(sentence.repeat(20));
  t.ok(passages.length > 1);
  for (const p of passages) {
    t.ok(p.text.length <= 460, `${p.text.length} chars`);
    t.match(p.text, /\.$/);
  }
});

t.test('best passage by BM25', async (t) => {
  const index = PassageIndex.fromText(KB);
  t.equal(index.size, 5);
  t.equal(index.best('How long does delivery take?')?.passage.title, 'Shipping');
  t.equal(index.best('what about refunds')?.passage.title, 'Returns');
  t.equal(index.best('where can I track my order')?.passage.title, 'Returns — How do I track my order?');
  t.equal(index.best('Is there a store I can visit?')?.passage.text.slice(0, 4), 'Yes,');
  t.equal(index.best('do gift cards expire')?.passage.text.slice(0, 10), 'Gift cards');
  const partial = index.best('do you ship to mars');
  t.equal(partial?.passage.title, 'Shipping');
  t.ok(partial!.coverage < 0.6, `an unknown word lowers coverage (${partial!.coverage.toFixed(2)})`);
  t.equal(index.best('What is the weather on Jupiter?'), null, 'no shared term: no match');
  t.equal(index.best('what is it'), null, 'only stop words: no match');
  t.equal(new PassageIndex([]).best('shipping'), null, 'empty index');
});

t.test('deterministic: ties go to the earlier passage', async (t) => {
  const index = PassageIndex.fromText('Apples are red.\n\nApples are green.');
  t.equal(index.best('apples')?.passage.text, 'Apples are red.');
  t.equal(index.best('apples')?.passage.text, 'Apples are red.');
});
