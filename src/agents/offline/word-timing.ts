import type { SpokenWord } from './flite-tts.js';
import type { FlitePhone } from './flite-wasi.js';
import { splitWords } from './sentences.js';

/**
 * Maps flite's phone timeline (`-psdur`) onto the words of the text it spoke, so transcript
 * offsets follow the voice. Flite reports phones but not which word each belongs to, and it
 * reads "3.5" as three words, so the mapping is anchored where it can be exact and estimated
 * in between:
 * - pauses (`pau`) split the speech into phrases; when their number matches the text's
 *   punctuation-delimited phrases, every phrase's words get exactly that phrase's phones;
 * - inside a phrase, each word gets as many vowel phones (syllable nuclei) as its spelling
 *   suggests, and the consonants between two nuclei are split by the next word's spelled onset.
 * Word boundaries therefore always fall on phone boundaries; an estimate is off by a phone or
 * two at most inside a phrase, never across a pause.
 */

/** Vowel phones of flite's US English phone set: one per syllable. */
const VOWEL_PHONES = new Set(['aa', 'ae', 'ah', 'ao', 'aw', 'ax', 'axr', 'ay', 'eh', 'er', 'ey', 'ih', 'ix', 'iy', 'ow', 'oy', 'uh', 'uw']);
const PAUSE_PHONE = 'pau';
/** A word whose text ends like this usually gets a pause after it. */
const PHRASE_END = /[,;:.!?…]["'”’)\]]*$/;

interface TimedPhone {
  phone: string;
  startMs: number;
  endMs: number;
}

/**
 * One timing per whitespace-separated word of `text`, in order, ms from the start of the audio.
 * Without a phone timeline (an engine that reports none) the words share `durationMs` by length.
 */
export function wordTimings(text: string, phones: readonly FlitePhone[], durationMs: number): SpokenWord[] {
  const words = splitWords(text);
  if (words.length === 0) return [];
  const timed: TimedPhone[] = [];
  let at = 0;
  for (const p of phones) {
    const endMs = Math.max(at, p.endMs);
    timed.push({ phone: p.phone, startMs: at, endMs });
    at = endMs;
  }
  const runs = speechRuns(timed);
  if (runs.length === 0) return byLength(words, 0, Math.max(0, durationMs));
  const phrases = phrasesOf(words);
  if (phrases.length === runs.length) return phrases.flatMap((phrase, i) => alignPhrase(phrase, runs[i]!));
  // Flite paused where the text has no punctuation, or not where it has: one phrase of all speech.
  return alignPhrase(words, runs.flat());
}

/** Phones between pauses. */
function speechRuns(phones: TimedPhone[]): TimedPhone[][] {
  const runs: TimedPhone[][] = [];
  let run: TimedPhone[] = [];
  for (const p of phones) {
    if (p.phone === PAUSE_PHONE) {
      if (run.length > 0) runs.push(run);
      run = [];
    } else run.push(p);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function phrasesOf(words: string[]): string[][] {
  const phrases: string[][] = [];
  let phrase: string[] = [];
  for (const w of words) {
    phrase.push(w);
    if (PHRASE_END.test(w)) {
      phrases.push(phrase);
      phrase = [];
    }
  }
  if (phrase.length > 0) phrases.push(phrase);
  return phrases;
}

function alignPhrase(words: string[], phones: TimedPhone[]): SpokenWord[] {
  const first = phones[0]!;
  const last = phones[phones.length - 1]!;
  const vowels: number[] = [];
  phones.forEach((p, i) => {
    if (VOWEL_PHONES.has(p.phone)) vowels.push(i);
  });
  if (vowels.length < words.length) {
    // Fewer syllables than words (spelled-out symbols, odd tokens): phones by length instead.
    if (phones.length < words.length) return byLength(words, first.startMs, last.endMs);
    return fromStarts(words, phones, apportion(words.map(letterWeight), phones.length));
  }
  const nuclei = apportion(words.map(syllableEstimate), vowels.length);
  const starts: number[] = [0];
  let vowel = nuclei[0]!;
  for (let i = 1; i < words.length; i++) {
    const lastVowelBefore = vowels[vowel - 1]!;
    const firstVowelOwn = vowels[vowel]!;
    const consonants = firstVowelOwn - lastVowelBefore - 1;
    starts.push(firstVowelOwn - Math.min(consonants, onsetEstimate(words[i]!)));
    vowel += nuclei[i]!;
  }
  return wordsFrom(words, phones, starts);
}

/** Word i begins at phone `starts[i]`; `counts` are phones per word. */
function fromStarts(words: string[], phones: TimedPhone[], counts: number[]): SpokenWord[] {
  const starts: number[] = [];
  let at = 0;
  for (const n of counts) {
    starts.push(at);
    at += n;
  }
  return wordsFrom(words, phones, starts);
}

function wordsFrom(words: string[], phones: TimedPhone[], starts: number[]): SpokenWord[] {
  return words.map((text, i) => {
    const endPhone = i + 1 < words.length ? starts[i + 1]! - 1 : phones.length - 1;
    return { text, startMs: phones[starts[i]!]!.startMs, endMs: phones[endPhone]!.endMs };
  });
}

/** `total` split into integer shares proportional to `weights`, at least 1 each (total ≥ count). */
function apportion(weights: number[], total: number): number[] {
  const shares = weights.map(() => 1);
  let left = total - weights.length;
  if (left <= 0) return shares;
  const sum = weights.reduce((a, b) => a + b, 0);
  const ideal = weights.map((w) => (sum > 0 ? (w / sum) * total : total / weights.length));
  // Give the rest one at a time to the word furthest below its ideal share.
  while (left > 0) {
    let best = 0;
    for (let i = 1; i < shares.length; i++) if (ideal[i]! - shares[i]! > ideal[best]! - shares[best]!) best = i;
    shares[best]!++;
    left--;
  }
  return shares;
}

function byLength(words: string[], fromMs: number, toMs: number): SpokenWord[] {
  const weights = words.map(letterWeight);
  const sum = weights.reduce((a, b) => a + b, 0);
  let at = fromMs;
  return words.map((text, i) => {
    const startMs = at;
    at += ((toMs - fromMs) * weights[i]!) / sum;
    return { text, startMs, endMs: at };
  });
}

function letterWeight(word: string): number {
  return Math.max(1, word.replace(/[^\p{L}\p{N}]/gu, '').length);
}

/** Letters spelled out one by one: "U.S.A.", "FBI". */
function isSpelledOut(word: string): boolean {
  const bare = word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}.]+$/gu, '');
  return /^(?:\p{L}\.){2,}\p{L}?\.?$/u.test(bare) || /^[B-DF-HJ-NP-TV-Z]{2,5}$/.test(bare);
}

/** Syllables flite will probably speak for `word`, from its spelling. */
export function syllableEstimate(word: string): number {
  if (isSpelledOut(word)) {
    const letters = word.replace(/[^\p{L}]/gu, '');
    return [...letters].reduce((n, l) => n + (/w/i.test(l) ? 3 : 1), 0);
  }
  let syllables = 0;
  const digits = word.replace(/[^0-9]/g, '').length;
  // Numbers are read out ("3.5" → three point five, "$12" → twelve dollars, "40%" → forty percent).
  syllables += digits * 1.3 + (/\d[.,]\d/.test(word) ? 1 : 0) + (word.includes('%') ? 2 : 0) + (word.includes('$') ? 2 : 0);
  const letters = word.toLowerCase().replace(/[^a-z]/g, '');
  if (letters !== '') {
    let groups = (letters.match(/[aeiouy]+/g) ?? []).length;
    if (groups > 1 && /[^aeiouy]e$/.test(letters) && !/[^aeiouy]le$/.test(letters)) groups--; // silent final e
    if (/^y[aeiou]/.test(letters)) groups = Math.max(1, groups); // "you": y is a consonant there
    syllables += Math.max(1, groups);
  }
  return Math.max(0.5, syllables);
}

/** Consonant sounds before the first vowel of `word`, from its spelling ("street" → 3, "the" → 1). */
export function onsetEstimate(word: string): number {
  if (isSpelledOut(word)) {
    // Letter names: "eh-f", "eh-s" start with a vowel; "bee", "dee" with one consonant.
    const first = word.replace(/[^\p{L}]/gu, '')[0] ?? '';
    return /[aefhilmnorsx]/i.test(first) ? 0 : 1;
  }
  const letters = word.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (/^[0-9]/.test(letters)) return 1;
  const onset = /^(?:y(?=[aeiou]))?[^aeiouy0-9]*/.exec(letters)?.[0] ?? '';
  return onset.replace(/th|sh|ch|ph|wh|ck|gh|ng/g, '1').replace(/qu/g, 'kw').length;
}
