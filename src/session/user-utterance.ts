import type { ServerMessage } from '../protocol/widget-server.js';
import type { UserTranscript } from '../agents/agent.js';

/**
 * The user's words as the agent hears them (PROTOCOL §1.4, role `user`): streamed pieces go out
 * as whole words, one `transcript_delta` each (offsets: none known); the final text, or the
 * agent's answer starting, ends the utterance with `transcript_done`.
 */
export class UserUtterance {
  /** The utterance whose words the agent is streaming (`userTranscriptDelta`), until its final text. */
  private current: { turnId: string; text: string; itemId?: string } | null = null;

  constructor(private readonly sessionId: string, private readonly send: (msg: ServerMessage) => void) {}

  delta({ text, itemId }: UserTranscript): void {
    if (typeof text !== 'string') return;
    const now = Date.now();
    const u = (this.current ??= { turnId: `user_${now}`, text: '' });
    if (typeof itemId === 'string') u.itemId = itemId;
    u.text += text;
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      this.send({ type: 'transcript_delta', text: word, role: 'user', turnId: u.turnId, sessionId: this.sessionId, timestamp: now, startOffset: 0, endOffset: 0, ...(u.itemId && { itemId: u.itemId }) });
    }
  }

  done({ text, itemId }: UserTranscript): void {
    const now = Date.now();
    const turnId = this.current?.turnId ?? `user_${now}`;
    const id = typeof itemId === 'string' ? itemId : this.current?.itemId;
    this.current = null;
    this.send({ type: 'transcript_done', text, role: 'user', turnId, timestamp: now, ...(id && { itemId: id }) });
  }

  /** An agent that streamed the user's words but never sent their final text: they end when it answers. */
  end(): void {
    const u = this.current;
    if (!u) return;
    this.current = null;
    this.send({ type: 'transcript_done', text: u.text.trim(), role: 'user', turnId: u.turnId, timestamp: Date.now(), ...(u.itemId && { itemId: u.itemId }) });
  }
}
