import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';

/** Bytes of 24 kHz PCM16 per millisecond. */
const BYTES_PER_MS = (OUTPUT_SAMPLE_RATE * 2) / 1000;

/**
 * What the client hears as one turn of the OpenAI Realtime agent: one response, or a chain of
 * them when a response called a tool and the follow-up response (after the tool output) continues
 * speaking.
 */
export interface RealtimeTurn {
  id: string;
  responseIds: Set<string>;
  /** Assistant audio items in arrival order, with the bytes received for each. */
  items: Array<{ itemId: string; bytes: number }>;
  transcript: string;
  /** `responseStart` emitted (first audio or transcript arrived). */
  started: boolean;
  /** Still receiving; false once ended (kept for truncation while the client plays it). */
  open: boolean;
  /** Text was dropped because the response exceeded its size cap (logged once). */
  textCapped: boolean;
}

export function newRealtimeTurn(responseId: string): RealtimeTurn {
  return { id: responseId || `resp_${Date.now()}`, responseIds: new Set(), items: [], transcript: '', started: false, open: true, textCapped: false };
}

/** Count `bytes` of audio of `itemId` into the turn. */
export function addTurnAudio(turn: RealtimeTurn, itemId: string, bytes: number): void {
  const last = turn.items[turn.items.length - 1];
  if (last && last.itemId === itemId) last.bytes += bytes;
  else turn.items.push({ itemId, bytes });
}

/**
 * The client events that cut the assistant audio the client never heard out of the conversation:
 * `conversation.item.truncate` of the item playing at `offsetMs` (capped to the audio of that item
 * actually received), `conversation.item.delete` for the later items of the turn.
 */
export function truncationEvents(turn: RealtimeTurn, offsetMs: number): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  let startMs = 0;
  for (let i = 0; i < turn.items.length; i++) {
    const item = turn.items[i]!;
    const itemMs = item.bytes / BYTES_PER_MS;
    const last = i === turn.items.length - 1;
    if (offsetMs < startMs + itemMs || last) {
      const audioEndMs = Math.floor(Math.min(offsetMs - startMs, itemMs));
      if (item.itemId) events.push({ type: 'conversation.item.truncate', item_id: item.itemId, content_index: 0, audio_end_ms: Math.max(0, audioEndMs) });
      for (const later of turn.items.slice(i + 1)) {
        if (later.itemId) events.push({ type: 'conversation.item.delete', item_id: later.itemId });
      }
      break;
    }
    startMs += itemMs;
  }
  return events;
}
