// The live transcript: the user's lines, and the assistant's words per turn. transcript_delta
// runs ahead of the audio, so, like the widget, a word appears when playback reaches its
// startOffset.

// The widget's rule for assembling words (avatar-chat-widget 0.15): a space before each word
// unless it starts with punctuation. The server's transcript_done text follows the same rule
// (src/session/transcript.ts), so the bubble ends up showing exactly that text.
const NO_SPACE_BEFORE = /^[.,!?;:'"\-)\]}>…]/;

export class TranscriptView {
  /** @param {HTMLElement} list  an <ol> */
  constructor(list) {
    this.list = list;
    /** `${role}:${turnId}` → { item, text, words: [{ span, startMs }] } */
    this.entries = new Map();
  }

  /** A line typed here, or user speech the agent transcribed (role user, turnId user_<ms>). */
  addUser(text, source) {
    const entry = this.addEntry('user', source === 'speech' ? 'You (voice)' : 'You');
    entry.text.textContent = text;
    this.scrollDown();
  }

  assistantDelta(turnId, text, startOffsetMs) {
    const entry = this.entryFor('assistant', turnId);
    const span = document.createElement('span');
    span.className = 'word';
    // The server sends whole words without spaces; like the widget, we put them in.
    span.textContent = (entry.words.length && !NO_SPACE_BEFORE.test(text) ? ' ' : '') + text;
    span.hidden = true; // until it is heard (markSpoken)
    entry.text.append(span);
    entry.words.push({ span, startMs: Number.isFinite(startOffsetMs) ? startOffsetMs : 0 });
    this.scrollDown();
  }

  /** transcript_done. An interrupted turn shows what the server says was spoken. */
  done(turnId, role, text, interrupted) {
    if (role === 'user') {
      this.addUser(text, 'speech');
      return;
    }
    const entry = this.entryFor('assistant', turnId);
    const shown = entry.words.map((w) => w.span.textContent).join('').trim();
    if (interrupted) {
      entry.text.textContent = text.trim() || '…';
      entry.words = [];
      entry.item.classList.add('interrupted');
    } else if (text.trim() && text.trim() !== shown) {
      entry.text.textContent = text.trim();
      entry.words = [];
    } else {
      // The turn's last frame has been sent: whatever is left is being heard now.
      this.markAllSpoken(turnId);
    }
    entry.item.classList.add('done');
  }

  /** Light up the words of `turnId` whose audio has been reached. */
  markSpoken(turnId, turnMs) {
    const entry = this.entries.get(`assistant:${turnId}`);
    if (!entry) return;
    for (const word of entry.words) {
      if (word.startMs <= turnMs) this.reveal(word);
    }
  }

  markAllSpoken(turnId) {
    const entry = this.entries.get(`assistant:${turnId}`);
    for (const word of entry?.words ?? []) this.reveal(word);
  }

  reveal(word) {
    word.span.hidden = false;
    word.span.classList.add('spoken');
  }

  /** Errors, tool calls, interrupts: small grey lines between the turns. */
  note(text, kind = 'info') {
    const item = document.createElement('li');
    item.className = `note ${kind}`;
    item.textContent = text;
    this.list.append(item);
    this.scrollDown();
  }

  textOf(turnId) {
    return this.entries.get(`assistant:${turnId}`)?.text.textContent ?? null;
  }

  entryFor(role, turnId) {
    const key = `${role}:${turnId}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.addEntry(role, 'Avatar');
      entry.item.dataset.turnId = turnId;
      this.entries.set(key, entry);
    }
    return entry;
  }

  addEntry(role, label) {
    const item = document.createElement('li');
    item.className = `line ${role}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = label;
    const text = document.createElement('span');
    text.className = 'text';
    item.append(who, text);
    this.list.append(item);
    return { item, text, words: [] };
  }

  scrollDown() {
    const box = this.list.parentElement;
    if (box) box.scrollTop = box.scrollHeight;
  }
}
