import t from 'tap';
import { onsetEstimate, syllableEstimate, wordTimings } from './word-timing.js';

/** `name:endSeconds …` as flite -psdur prints it. */
function phones(line: string): Array<{ phone: string; endMs: number }> {
  return line.split(' ').map((tok) => ({ phone: tok.split(':')[0]!, endMs: Number(tok.split(':')[1]) * 1000 }));
}

t.test('pauses anchor phrases: each word gets its own phones', async (t) => {
  // flite -voice slt -psdur -t "Hello, world!"
  const timeline = phones('pau:0.164 hh:0.255 ax:0.304 l:0.547 ow:0.661 pau:0.891 w:1.012 er:1.224 l:1.406 d:1.461 pau:1.580');
  const words = wordTimings('Hello, world!', timeline, 1580);
  t.same(words.map((w) => w.text), ['Hello,', 'world!']);
  t.same(words.map((w) => [Math.round(w.startMs), Math.round(w.endMs)]), [[164, 661], [891, 1461]]);
});

t.test('inside a phrase, words split at syllables and spelled onsets', async (t) => {
  // "I'm the built in" → ay m | dh ax | b ih l t | ih n
  const timeline = phones('pau:0.1 ay:0.2 m:0.3 dh:0.4 ax:0.5 b:0.6 ih:0.7 l:0.8 t:0.9 ih:1.0 n:1.1 pau:1.2');
  const words = wordTimings("I'm the built in", timeline, 1200);
  t.same(words.map((w) => [Math.round(w.startMs), Math.round(w.endMs)]), [[100, 300], [300, 500], [500, 900], [900, 1100]]);
});

t.test('every word gets a timing, in order, even when phrases do not match the pauses', async (t) => {
  const timeline = phones('pau:0.1 th:0.2 r:0.3 iy:0.4 p:0.5 oy:0.6 n:0.7 t:0.8 f:0.9 ay:1.0 v:1.1 pau:1.3');
  const words = wordTimings('It is 3.5, really.', timeline, 1300);
  t.equal(words.length, 4);
  for (let i = 1; i < words.length; i++) t.ok(words[i]!.startMs >= words[i - 1]!.endMs - 1e-9, 'no overlap');
  t.ok(words.every((w) => w.endMs > w.startMs), 'no empty word');
  t.equal(Math.round(words.at(-1)!.endMs), 1100, 'the last word ends with the last spoken phone');
});

t.test('no phone timeline: the duration is shared by length', async (t) => {
  const words = wordTimings('one three', [], 800);
  t.same(words.map((w) => [w.startMs, w.endMs]), [[0, 300], [300, 800]]);
});

t.test('spelling estimates', async (t) => {
  t.equal(syllableEstimate('hello'), 2);
  t.equal(syllableEstimate('time'), 1);
  t.equal(syllableEstimate('U.S.A.'), 3);
  t.equal(onsetEstimate('street'), 3);
  t.equal(onsetEstimate('the'), 1);
  t.equal(onsetEstimate('you'), 1);
  t.equal(onsetEstimate('apple'), 0);
});
