import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AudioChunker } from '../offline/audio-chunker.js';
import type { SpeechAudio, TextToSpeech } from '../offline/flite-tts.js';
import { splitWords } from '../offline/sentences.js';
import type { AsyncQueue } from './async-queue.js';
import type { AssistantTextDelta } from '../agent.js';

export interface SpokenSentence {
  text: string;
  durationMs: number;
}

export interface SpeakHooks {
  /** Checked after every await: true stops at once, with nothing more emitted. */
  cancelled(): boolean;
  /** The first sentence is known (before its synthesis): the response starts. */
  onStart(): void;
  /** A sentence's text (raw, with the space before it) and its word timings, just before its audio. */
  onText(delta: AssistantTextDelta): void;
  onAudio(chunk: Buffer, durationMs: number): void;
}

export type SpeakOutcome =
  | { kind: 'done'; spoken: SpokenSentence[] }
  | { kind: 'cancelled'; spoken: SpokenSentence[] }
  /** The sentence source or the TTS failed; `spoken` is what was emitted before. */
  | { kind: 'failed'; spoken: SpokenSentence[]; source: 'text' | 'tts'; err: unknown };

type Synthesis = { ok: true; speech: SpeechAudio } | { ok: false; err: unknown };

/**
 * Speaks sentences as they arrive: synthesis (worker pool) of sentence i+1 starts as soon as it
 * is known while sentence i is emitted, never more than one ahead so a long reply does not
 * fill the shared pool's queue. A sentence's text, with the time each word is spoken (ms from
 * the response's first audio, from the TTS), goes out just before its audio; audio in
 * `chunkBytes` pieces, yielding to the event loop between them. A sentence counts as spoken
 * (in `spoken`) from its words on.
 */
export async function speakSentences(
  sentences: AsyncQueue<string>,
  tts: TextToSpeech,
  chunkBytes: number,
  hooks: SpeakHooks,
  /** Filled as sentences are emitted, so a cancel can tell what was said so far. */
  spoken: SpokenSentence[] = [],
): Promise<SpeakOutcome> {
  const chunker = new AudioChunker(chunkBytes);
  const bytesPerMs = (tts.sampleRate * 2) / 1000;
  const synthesize = (text: string): Promise<Synthesis> =>
    // Never rejects: a prefetch nobody awaits (after a cancel) cannot go unhandled.
    tts.synthesize(text).then((speech): Synthesis => ({ ok: true, speech }), (err: unknown): Synthesis => ({ ok: false, err }));
  const nextSentence = async (): Promise<{ text: string | null } | { err: unknown }> => {
    try {
      return { text: await sentences.next() };
    } catch (err) {
      return { err };
    }
  };

  /** Audio of this response before the current sentence. */
  let audioMs = 0;
  let next = await nextSentence();
  if (hooks.cancelled()) return { kind: 'cancelled', spoken };
  if ('err' in next) return { kind: 'failed', spoken, source: 'text', err: next.err };
  let text = next.text;
  if (text === null) return { kind: 'done', spoken };
  hooks.onStart();
  let synthesis: Promise<Synthesis> | null = synthesize(text);
  while (text !== null && synthesis !== null) {
    const result = await synthesis;
    if (hooks.cancelled()) return { kind: 'cancelled', spoken };
    if (!result.ok) {
      // What was already synthesized still plays: the short last chunk goes out.
      if (!(await flush(chunker, hooks, bytesPerMs))) return { kind: 'cancelled', spoken };
      return { kind: 'failed', spoken, source: 'tts', err: result.err };
    }
    // Prefetch: the following sentence, if the source already has it.
    let following: string | null | undefined = sentences.shiftReady();
    synthesis = following !== undefined ? synthesize(following) : null;
    const { speech } = result;
    const words = speech.words?.map((w) => ({ startMs: audioMs + w.startMs, endMs: audioMs + w.endMs }));
    hooks.onText({ text: (spoken.length > 0 ? ' ' : '') + text, ...(words ? { words } : {}) });
    spoken.push({ text, durationMs: speech.durationMs });
    audioMs += speech.pcm.length / bytesPerMs;
    if (hooks.cancelled()) return { kind: 'cancelled', spoken };
    for (const chunk of chunker.push(result.speech.pcm)) {
      await yieldToEventLoop();
      if (hooks.cancelled()) return { kind: 'cancelled', spoken };
      hooks.onAudio(chunk, chunk.length / bytesPerMs);
    }
    if (following === undefined) {
      next = await nextSentence();
      if (hooks.cancelled()) return { kind: 'cancelled', spoken };
      if ('err' in next) {
        await flush(chunker, hooks, bytesPerMs);
        return { kind: 'failed', spoken, source: 'text', err: next.err };
      }
      following = next.text;
      synthesis = following !== null ? synthesize(following) : null;
    }
    text = following;
  }
  if (!(await flush(chunker, hooks, bytesPerMs))) return { kind: 'cancelled', spoken };
  return { kind: 'done', spoken };
}

/** Emits the short last chunk; false when cancelled meanwhile. */
async function flush(chunker: AudioChunker, hooks: SpeakHooks, bytesPerMs: number): Promise<boolean> {
  const last = chunker.flush();
  if (!last) return true;
  await yieldToEventLoop();
  if (hooks.cancelled()) return false;
  hooks.onAudio(last, last.length / bytesPerMs);
  return true;
}

/** The words of `spoken` heard by `offsetMs` of audio: whole sentences, then a proportional share of the next. */
export function heardBy(spoken: SpokenSentence[], offsetMs: number): string {
  const heard: string[] = [];
  let at = 0;
  for (const s of spoken) {
    if (at + s.durationMs <= offsetMs) {
      heard.push(s.text);
      at += s.durationMs;
      continue;
    }
    const words = splitWords(s.text);
    const share = s.durationMs > 0 ? Math.max(0, offsetMs - at) / s.durationMs : 0;
    const n = Math.floor(words.length * share);
    if (n > 0) heard.push(words.slice(0, n).join(' '));
    break;
  }
  return heard.join(' ');
}
