import { DEFAULT_FIRST_PIECE_CHARS, DEFAULT_MAX_SENTENCE_CHARS, splitSentences } from '../offline/sentences.js';

/**
 * Streamed reply text (LLM tokens) → complete sentences, as soon as each one is known to be
 * complete, so speech can start after the first sentence instead of after the whole reply.
 * Uses the offline agent's splitter: a sentence is complete once the text after it starts the
 * next one, or at a line break; the first piece may be cut at a clause break, as offline.
 */
export class SentenceStream {
  private buffer = '';
  private emitted = 0;

  constructor(private readonly maxSentenceChars = DEFAULT_MAX_SENTENCE_CHARS, private readonly firstPieceChars = DEFAULT_FIRST_PIECE_CHARS) {}

  /** Sentences completed by `delta`. */
  push(delta: string): string[] {
    this.buffer += delta;
    const pieces = this.split();
    if (pieces.length === 0) return [];
    // A trailing line break completes the last piece too; otherwise it may still grow.
    if (/\n\s*$/.test(this.buffer)) {
      this.buffer = '';
      return this.take(pieces);
    }
    const last = pieces.pop()!;
    this.buffer = /\s$/.test(this.buffer) ? `${last} ` : last;
    return this.take(pieces);
  }

  /** The stream ended: whatever is left is the last sentence. */
  end(): string[] {
    const pieces = this.split();
    this.buffer = '';
    return this.take(pieces);
  }

  private split(): string[] {
    // The first-clause cut applies to the reply's first piece only.
    return splitSentences(this.buffer, this.maxSentenceChars, this.emitted === 0 ? this.firstPieceChars : Number.POSITIVE_INFINITY);
  }

  private take(pieces: string[]): string[] {
    const out = pieces.map(speakable).filter((p) => /[\p{L}\p{N}]/u.test(p));
    this.emitted += out.length;
    return out;
  }
}

/**
 * One sentence without the markdown that models emit out of habit, so TTS does not read it out:
 * a leading heading mark or list bullet, emphasis marks, backticks.
 */
export function speakable(sentence: string): string {
  return sentence
    .replace(/^(?:#{1,6}|[-•*+]|\d{1,2}[.)])\s+/, '')
    .replace(/\*{1,3}|`+|~~|(?<![\p{L}\p{N}])_{1,2}|_{1,2}(?![\p{L}\p{N}])/gu, '')
    .trim();
}
