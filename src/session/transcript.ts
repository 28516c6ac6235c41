import type { AssistantTextDelta, WordTiming } from '../agents/agent.js';

/**
 * The assistant transcript of one turn, as the widget needs it (PROTOCOL.md §1.4): one whole
 * word per `transcript_delta`, no whitespace, with offsets in ms from the turn's start of audio
 * that follow the speech and never decrease.
 *
 * Agents stream raw fragments that may cut words anywhere (`AssistantTextDelta`); a word is
 * complete once whitespace follows it, or at the end of the response. Offsets are the agent's
 * own word timings when it gives them (its TTS knows when each word is spoken), else estimated
 * from a characters-per-second speaking rate (`TRANSCRIPT_CHARS_PER_SECOND`).
 */

/** Typical English speech, spaces included: TRANSCRIPT_CHARS_PER_SECOND's default, as in the reference. */
export const DEFAULT_TRANSCRIPT_CHARS_PER_SECOND = 16;

export interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
}

/**
 * The widget's rule for assembling deltas into a bubble (avatar-chat-widget 0.15,
 * TranscriptManager): a space before every word unless it starts with one of these. The demo
 * page (public/transcript.js) applies the same rule to render the same text.
 */
const NO_SPACE_BEFORE = /^[.,!?;:'"\-)\]}>…]/;

/** Words joined as the widget shows them: what `transcript_done` must say. */
export function joinLikeWidget(words: readonly string[]): string {
  let text = '';
  for (const word of words) text += text === '' || NO_SPACE_BEFORE.test(word) ? word : ` ${word}`;
  return text;
}

/** A "word" with no whitespace this long is cut: an agent's unbroken stream must not grow without bound. */
const MAX_WORD_CHARS = 1000;
/** Offsets beyond the 10-minute turn cap are not speech timings. */
const MAX_OFFSET_MS = 600_000;

export class TurnTranscript {
  private partial = '';
  private readonly words: TimedWord[] = [];
  /** Where the next estimated word starts: the end of the last word. */
  private cursorMs = 0;
  private readonly msPerChar: number;

  constructor(charsPerSecond: number) {
    this.msPerChar = 1000 / charsPerSecond;
  }

  /** Feed the agent's next fragment; returns the words it completed, ready to send. */
  push(delta: AssistantTextDelta): TimedWord[] {
    const timings = validTimings(delta);
    if (timings) {
      // Timed fragments hold whole words: an unfinished raw word before them is complete now.
      const out = this.flush();
      const tokens = splitTokens(delta.text);
      tokens.forEach((text, i) => out.push(this.add(text, timings[i]!)));
      return out;
    }
    this.partial += delta.text;
    const parts = this.partial.split(/\s+/);
    this.partial = parts.pop() ?? '';
    const out = parts.filter((w) => w !== '').map((w) => this.add(w));
    while (this.partial.length > MAX_WORD_CHARS) {
      out.push(this.add(this.partial.slice(0, MAX_WORD_CHARS)));
      this.partial = this.partial.slice(MAX_WORD_CHARS);
    }
    return out;
  }

  /** End of the response: the trailing word, if any. */
  flush(): TimedWord[] {
    const rest = this.partial;
    this.partial = '';
    return splitTokens(rest).map((w) => this.add(w));
  }

  /** True once the agent streamed any text: words sent, or a last word still waiting for `flush`. */
  get hasText(): boolean {
    return this.words.length > 0 || this.partial.trim() !== '';
  }

  /** The words sent so far, joined as the widget joins them. */
  get text(): string {
    return joinLikeWidget(this.words.map((w) => w.text));
  }

  /** What the user heard by `offsetMs` of audio: the words that had started by then. */
  spokenBy(offsetMs: number): string {
    return joinLikeWidget(this.words.filter((w) => w.startMs < offsetMs).map((w) => w.text));
  }

  private add(text: string, timing?: WordTiming): TimedWord {
    const last = this.words[this.words.length - 1];
    // Never decreasing, whatever the source: the widget reveals words in order of startOffset.
    const floorMs = last ? last.startMs : 0;
    let word: TimedWord;
    if (timing) {
      const startMs = Math.max(floorMs, timing.startMs);
      word = { text, startMs, endMs: Math.max(startMs, timing.endMs) };
    } else {
      const startMs = Math.max(floorMs, this.cursorMs);
      word = { text, startMs, endMs: startMs + (text.length + 1) * this.msPerChar };
    }
    this.cursorMs = Math.max(this.cursorMs, word.endMs);
    this.words.push(word);
    return word;
  }
}

function splitTokens(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** The delta's word timings if they are usable: one finite, in-range pair per word. */
function validTimings(delta: AssistantTextDelta): WordTiming[] | null {
  const words = delta.words;
  if (!Array.isArray(words)) return null;
  if (words.length !== splitTokens(delta.text).length) return null;
  const ok = words.every(
    (w) =>
      typeof w === 'object' && w !== null &&
      Number.isFinite(w.startMs) && Number.isFinite(w.endMs) &&
      w.startMs >= 0 && w.endMs >= w.startMs && w.endMs <= MAX_OFFSET_MS,
  );
  return ok ? words : null;
}
