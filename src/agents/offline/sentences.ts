/**
 * Reply text → sentences for sentence-by-sentence synthesis (the first audio is ready after
 * one short sentence, not after the whole reply) and → words for transcript deltas.
 */

/** Longest piece handed to TTS at once, characters: bounds the wait for the next audio. */
export const DEFAULT_MAX_SENTENCE_CHARS = 200;
/**
 * A longer first sentence is cut at its first clause break, if it has one: flite needs ~2 ms
 * per character, so a 130-character opening sentence delays the first audio by ~250 ms, its
 * first clause by ~100 ms. A pause at a comma sounds natural; a cut mid-clause would not.
 */
export const DEFAULT_FIRST_PIECE_CHARS = 60;
/** Shortest first piece worth cutting off: "Well," alone would just add a pause. */
const MIN_FIRST_PIECE_CHARS = 15;

/** Abbreviations whose full stop does not end a sentence (lower case, without the final dot). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'approx', 'inc', 'ltd', 'co', 'fig', 'dept', 'mt', 'ca']);

/** Splits an over-long sentence at the last clause break (or space) before `maxChars`. */
function splitLong(sentence: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '), window.lastIndexOf(' - '));
    if (cut < maxChars / 3) cut = window.lastIndexOf(' ');
    // One unbroken "word" longer than the limit: cut it anyway, TTS will spell it out.
    const at = cut > 0 ? cut + 1 : maxChars;
    pieces.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

/**
 * Sentences of `text`, whitespace-normalised, none longer than `maxChars`. A line break also
 * ends a sentence (list items rarely end with a full stop).
 */
export function splitSentences(text: string, maxChars = DEFAULT_MAX_SENTENCE_CHARS, firstPieceChars = DEFAULT_FIRST_PIECE_CHARS): string[] {
  const sentences: string[] = [];
  for (const line of text.split(/\n+/)) {
    const tokens = line.trim().split(/\s+/).filter((t) => t !== '');
    let current: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      current.push(token);
      const next = tokens[i + 1];
      if (next === undefined || !endsSentence(token, next)) continue;
      sentences.push(current.join(' '));
      current = [];
    }
    if (current.length > 0) sentences.push(current.join(' '));
  }
  const pieces = sentences.flatMap((s) => splitLong(s, maxChars));
  return pieces.length > 0 ? [...splitAtFirstClause(pieces[0]!, firstPieceChars), ...pieces.slice(1)] : pieces;
}

function splitAtFirstClause(sentence: string, firstPieceChars: number): string[] {
  if (sentence.length <= firstPieceChars) return [sentence];
  const clauseEnd = /[,;:](?= )/g;
  for (let m = clauseEnd.exec(sentence); m !== null; m = clauseEnd.exec(sentence)) {
    if (m.index + 1 < MIN_FIRST_PIECE_CHARS) continue;
    // Only a break that really shortens the wait; "Yes, ..." then a long clause gains nothing.
    if (m.index + 1 > firstPieceChars * 1.5) break;
    const rest = sentence.slice(m.index + 1).trim();
    return rest === '' ? [sentence] : [sentence.slice(0, m.index + 1), rest];
  }
  return [sentence];
}

function endsSentence(token: string, next: string): boolean {
  const m = /^(.*?)([.!?…]+)["'”’)\]]*$/.exec(token);
  if (!m) return false;
  const [, word = '', punctuation = ''] = m;
  if (punctuation === '.') {
    const bare = word.replace(/^["'“‘(\[]+/, '').toLowerCase();
    if (ABBREVIATIONS.has(bare)) return false;
    // An initial ("J. Smith") or a decimal/ordinal written oddly: not an end.
    if (/^\p{Lu}$/u.test(word)) return false;
  }
  // A new sentence starts with a capital, a digit or an opening quote; "3.5 kg." mid-text does not.
  return /^["'“‘(\[]?[\p{Lu}\p{N}]/u.test(next);
}

/** Whole words of a sentence, no leading or trailing spaces: one transcript delta each. */
export function splitWords(sentence: string): string[] {
  return sentence.split(/\s+/).filter((w) => w !== '');
}
