import type tap from 'tap';
import type { Msg, WidgetClient } from './widget-client.js';
import { joinLikeWidget } from '../../src/session/transcript.js';

/** The assertions these checks use; every tap test object has them. */
type Asserts = Pick<typeof tap, 'ok' | 'equal'>;

export interface TurnTranscriptSeen {
  turnId: string;
  deltas: Msg[];
  done: Msg;
  /** Agent audio of the turn as the frames carried it, ms (frames × 1/30 s, the last one padded). */
  audioMs: number;
}

/** The assistant deltas, frames and `transcript_done` of the turn that `transcript_done` at `doneIndex` ends. */
export function turnSeen(client: WidgetClient, doneIndex: number): TurnTranscriptSeen {
  const done = client.received[doneIndex]!.msg;
  const turnId = done.turnId as string;
  const of = (type: string): Msg[] => client.received.map((r) => r.msg).filter((m) => m.type === type && m.turnId === turnId);
  const deltas = of('transcript_delta').filter((m) => m.role === 'assistant');
  const frames = of('sync_frame');
  const audioBytes = frames.reduce((n, f) => n + Buffer.from(f.audio as string, 'base64').length, 0);
  return { turnId, deltas, done, audioMs: (audioBytes / 2 / 24_000) * 1000 };
}

/**
 * What the widget needs of an assistant turn's transcript (PROTOCOL.md §1.4): one word per delta,
 * no whitespace; the deltas joined by the widget's rule are `transcript_done.text`; offsets
 * never decrease. With `audioTolerance`, the last word ends within that share of the audio length
 * (agents whose TTS times the words).
 */
export function checkTurnTranscript(t: Asserts, seen: TurnTranscriptSeen, opts: { audioTolerance?: number } = {}): void {
  const words = seen.deltas.map((d) => d.text as string);
  t.ok(words.length > 0, `${words.length} words`);
  t.ok(words.every((w) => w !== '' && !/\s/.test(w)), 'each delta is one word without whitespace');
  t.equal(joinLikeWidget(words), seen.done.text, 'deltas joined as the widget joins them = transcript_done.text');
  let ordered = true;
  for (let i = 0; i < seen.deltas.length; i++) {
    const d = seen.deltas[i]!;
    const prev = seen.deltas[i - 1];
    if ((d.endOffset as number) < (d.startOffset as number)) ordered = false;
    if (prev && ((d.startOffset as number) < (prev.startOffset as number) || (d.endOffset as number) < (prev.endOffset as number))) ordered = false;
  }
  t.ok(ordered, 'offsets never decrease');
  if (opts.audioTolerance !== undefined) {
    const lastEnd = seen.deltas.at(-1)!.endOffset as number;
    const share = Math.abs(lastEnd - seen.audioMs) / seen.audioMs;
    t.ok(share <= opts.audioTolerance, `last word ends at ${lastEnd} ms, audio ${Math.round(seen.audioMs)} ms (${(share * 100).toFixed(1)} % off)`);
  }
}

/** PROTOCOL §1.5: an interrupted turn's text is the words whose startOffset is before offsetMs. */
export function heardText(deltas: Msg[], offsetMs: number): string {
  return joinLikeWidget(deltas.filter((d) => (d.startOffset as number) < offsetMs).map((d) => d.text as string));
}
