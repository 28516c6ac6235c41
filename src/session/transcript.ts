/**
 * Assistant transcript of one turn. Agents stream text in arbitrary fragments (" Hel", "lo");
 * the widget wants whole words without a leading space, and offsets in ms from the turn's start
 * of audio. Text usually runs ahead of audio, so offsets are an estimate from a typical speaking
 * rate; they only serve to show roughly which words were spoken when a turn is interrupted.
 */
const MS_PER_CHAR = 65; // ≈ 15 characters per second of English speech, spaces included

export interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
}

export class TurnTranscript {
  private partial = '';
  private readonly words: TimedWord[] = [];
  private cursorMs = 0;

  /** Feed a fragment; returns the words completed by it. */
  push(fragment: string): TimedWord[] {
    this.partial += fragment;
    const parts = this.partial.split(/\s+/);
    this.partial = parts.pop() ?? '';
    return parts.filter((w) => w.length > 0).map((w) => this.add(w));
  }

  /** End of the response: the trailing word, if any. */
  flush(): TimedWord[] {
    const rest = this.partial.trim();
    this.partial = '';
    return rest ? rest.split(/\s+/).map((w) => this.add(w)) : [];
  }

  private add(text: string): TimedWord {
    const word = { text, startMs: this.cursorMs, endMs: this.cursorMs + (text.length + 1) * MS_PER_CHAR };
    this.cursorMs = word.endMs;
    this.words.push(word);
    return word;
  }

  get text(): string {
    const done = this.words.map((w) => w.text).join(' ');
    const rest = this.partial.trim();
    return rest ? (done ? `${done} ${rest}` : rest) : done;
  }

  /** Words that had started by `offsetMs` of audio. */
  spokenBy(offsetMs: number): string {
    return this.words.filter((w) => w.startMs < offsetMs).map((w) => w.text).join(' ');
  }
}
