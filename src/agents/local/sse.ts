/**
 * Incremental parser for Server-Sent Events (the WHATWG `text/event-stream` format) as
 * OpenAI-compatible servers stream chat completions: `data: {...}\n\n` … `data: [DONE]\n\n`.
 * Bytes arrive in arbitrary pieces; an event is complete at its blank line.
 */

export interface SseEvent {
  /** `event:` field; 'message' when absent. */
  event: string;
  /** `data:` lines joined by '\n'. */
  data: string;
  id?: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** A '\r' ended the last piece: a '\n' starting the next one belongs to the same line break. */
  private pendingCr = false;
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** Longest line accepted, characters: a server that never sends a line break cannot fill memory. */
  constructor(private readonly maxLineChars = 4 << 20) {}

  /** Events completed by this piece of the stream. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone '\r' at the very end may be the first half of '\r\n'.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        this.pendingCr = true;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    if (this.buffer.length > this.maxLineChars) throw new Error(`event-stream line longer than ${this.maxLineChars} characters`);
    return events;
  }

  /** The stream ended: an event without its final blank line is dispatched anyway. */
  end(): SseEvent[] {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    const events: SseEvent[] = [];
    if (rest !== '') {
      const e = this.line(rest);
      if (e) events.push(e);
    }
    const last = this.line('');
    if (last) events.push(last);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const event: SseEvent = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.id !== undefined) event.id = this.id;
      this.data = [];
      this.event = '';
      return event;
    }
    if (line.startsWith(':')) return null; // comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return null;
  }
}
