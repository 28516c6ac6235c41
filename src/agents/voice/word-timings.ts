import type { SpokenWord } from '../offline/flite-tts.js';

/**
 * When each word of `text` is spoken in `durationMs` of speech, for engines that report no
 * timings (HTTP speech servers), as the reference times its transcript: from the start of the
 * sentence's audio, each word takes its characters plus the gap after it at `charsPerSecond`
 * (`*_TRANSCRIPT_SPEED`). Words never run past the audio: when the text would take longer at that
 * rate, the rate is raised so the last word ends with the sentence. An estimate, good to a word
 * or two, which is what a transcript that follows the speech needs.
 */
export function estimateWordTimings(text: string, durationMs: number, charsPerSecond: number): SpokenWord[] {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const weight = words.reduce((sum, w) => sum + w.length + 1, 0);
  if (weight === 0 || !(durationMs > 0)) return words.map((w) => ({ text: w, startMs: 0, endMs: 0 }));
  const msPerChar = Math.min(1000 / charsPerSecond, durationMs / weight);
  const out: SpokenWord[] = [];
  let at = 0;
  for (const w of words) {
    const startMs = at;
    at += (w.length + 1) * msPerChar;
    out.push({ text: w, startMs: Math.round(startMs), endMs: Math.round(startMs + w.length * msPerChar) });
  }
  return out;
}
