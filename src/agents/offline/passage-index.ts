/**
 * Retrieval for the offline responder: the knowledge base text is split into passages, and a
 * question is answered with the passage of the highest BM25 score — deterministic, no model.
 */

export interface Passage {
  /** Heading or FAQ question the passage sits under: searched, not spoken. */
  title: string;
  /** What gets said, markdown stripped. */
  text: string;
}

export interface PassageMatch {
  passage: Passage;
  score: number;
  /** Share of the question's weight (IDF) that the passage contains, 0..1. */
  coverage: number;
}

/** A passage longer than this is cut at sentence ends, so an answer stays a few sentences long. */
const MAX_PASSAGE_CHARS = 450;
/** BM25 constants, the usual values. */
const K1 = 1.2;
const B = 0.75;
/** Title words count more: a heading says what its passage is about. */
const TITLE_WEIGHT = 2;

// Function words, plus the conversational wrapper of a question ("can you tell me about ..."),
// which says nothing about which passage is wanted.
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing done down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why will with would ' +
    'you your yours yourself yourselves also get got let lets may might must shall tell know explain please want like need ' +
    'give show say said thing things something anything much many one ok okay yes yeah hi hello hey thanks thank s t d ll m re ve'
  ).split(' '),
);

/** Lower-case words with diacritics folded: "Café" and "cafe" match. */
export function words(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  return folded.match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/** Light suffix stripping so "refunds", "refunded" and "refunding" meet "refund". */
export function stem(word: string): string {
  let w = word.replace(/'s$/, '').replace(/'/g, '');
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(?:ches|shes|sses|xes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  // "shipping" → "shipp" → "ship": undouble a final consonant left by the cuts above.
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(?:ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  return w;
}

/** The searchable terms of a text: words minus stop words, stemmed. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    if (STOP_WORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** Markdown and list syntax that should not be read aloud. */
function plainText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^\s*(?:[-*+•]|\d+[.)])\s+/gm, '')
    .replace(/^\s*>\s?/gm, '')
    .replace(/[*_`~]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Cuts `text` into pieces of at most ~`maxChars`, at sentence ends where possible. */
function cutLong(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const sentences = text.match(/[^.!?]+(?:[.!?]+["')\]]*|$)\s*/g) ?? [text];
  const pieces: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current !== '' && current.length + sentence.length > maxChars) {
      pieces.push(current.trim());
      current = '';
    }
    current += sentence;
  }
  if (current.trim() !== '') pieces.push(current.trim());
  return pieces;
}

/**
 * Passages are paragraphs (blank-line separated). A markdown heading titles the paragraphs
 * under it; a paragraph that is only a question ("How do I ...?") titles the next one; a
 * "Q: ... / A: ..." paragraph is titled by its question and says its answer.
 */
export function splitPassages(knowledgeBase: string): Passage[] {
  const passages: Passage[] = [];
  let heading = '';
  let pendingQuestion = '';
  for (const block of knowledgeBase.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const lines = block.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length === 0) continue;
    const bodyLines: string[] = [];
    for (const line of lines) {
      const h = /^#{1,6}\s+(.*)$/.exec(line);
      if (h) {
        heading = plainText(h[1]!);
        pendingQuestion = '';
      } else {
        bodyLines.push(line);
      }
    }
    if (bodyLines.length === 0) continue;
    let title = pendingQuestion;
    pendingQuestion = '';
    const first = bodyLines[0]!;
    const isQuestion = /^q(?:uestion)?\s*[:.]/i.test(first) || /\?$/.test(first);
    if (isQuestion && bodyLines.length === 1) {
      pendingQuestion = plainText(first.replace(/^q(?:uestion)?\s*[:.]\s*/i, ''));
      continue;
    }
    if (isQuestion) {
      title = plainText(first.replace(/^q(?:uestion)?\s*[:.]\s*/i, ''));
      bodyLines.shift();
      bodyLines[0] = bodyLines[0]!.replace(/^a(?:nswer)?\s*[:.]\s*/i, '');
    }
    const text = plainText(bodyLines.join('\n'));
    if (text === '') continue;
    const fullTitle = [heading, title].filter((s) => s !== '').join(' — ');
    for (const piece of cutLong(text, MAX_PASSAGE_CHARS)) passages.push({ title: fullTitle, text: piece });
  }
  // A trailing question with no answer is still worth finding: it says itself.
  if (pendingQuestion !== '') passages.push({ title: heading, text: pendingQuestion });
  return passages;
}

interface Posting {
  /** Position of the passage in `passages`. */
  passage: number;
  termFrequency: number;
}

/**
 * BM25 over the passages of one knowledge base. Build once, query many times. An inverted
 * index: a query touches only the passages that contain one of its terms, so it stays well
 * under a millisecond on the main thread even for a knowledge base of megabytes.
 */
export class PassageIndex {
  private readonly postings = new Map<string, Posting[]>();
  private readonly lengths: Float64Array;
  private readonly averageLength: number;

  constructor(readonly passages: readonly Passage[]) {
    this.lengths = new Float64Array(passages.length);
    passages.forEach((passage, index) => {
      const termFrequency = new Map<string, number>();
      let length = 0;
      const add = (text: string, weight: number): void => {
        for (const term of terms(text)) {
          termFrequency.set(term, (termFrequency.get(term) ?? 0) + weight);
          length += weight;
        }
      };
      add(passage.text, 1);
      add(passage.title, TITLE_WEIGHT);
      for (const [term, frequency] of termFrequency) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push({ passage: index, termFrequency: frequency });
      }
      this.lengths[index] = length;
    });
    const total = this.lengths.reduce((sum, l) => sum + l, 0);
    this.averageLength = passages.length > 0 ? Math.max(1, total / passages.length) : 1;
  }

  static fromText(knowledgeBase: string): PassageIndex {
    return new PassageIndex(splitPassages(knowledgeBase));
  }

  get size(): number {
    return this.passages.length;
  }

  /** Rarer terms weigh more; a term the knowledge base never uses weighs most (it cannot be matched). */
  private idf(term: string): number {
    const n = this.passages.length;
    const df = this.postings.get(term)?.length ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** The best passage for `question`, or null when no passage shares a term with it. Ties go to the earlier passage. */
  best(question: string): PassageMatch | null {
    const queryTerms = [...new Set(terms(question))];
    if (queryTerms.length === 0 || this.passages.length === 0) return null;
    if (!queryTerms.some((term) => this.postings.has(term))) return null;
    let totalWeight = 0;
    const scores = new Float64Array(this.passages.length);
    const matchedWeights = new Float64Array(this.passages.length);
    for (const term of queryTerms) {
      const weight = this.idf(term);
      totalWeight += weight;
      for (const { passage, termFrequency: tf } of this.postings.get(term) ?? []) {
        const norm = tf + K1 * (1 - B + (B * this.lengths[passage]!) / this.averageLength);
        scores[passage] += weight * ((tf * (K1 + 1)) / norm);
        matchedWeights[passage] += weight;
      }
    }
    // Strictly greater, scanning in order: ties go to the earlier passage.
    let bestIndex = -1;
    let bestScore = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i]! > bestScore) {
        bestScore = scores[i]!;
        bestIndex = i;
      }
    }
    if (bestIndex < 0) return null;
    return { passage: this.passages[bestIndex]!, score: bestScore, coverage: totalWeight > 0 ? matchedWeights[bestIndex]! / totalWeight : 0 };
  }
}
