// The widget-dialect socket (PROTOCOL.md §1.1): one connection = one session, `config` first,
// a ping every 30 s, no automatic reconnect (like the widget; the page offers a button).

export const PING_INTERVAL_MS = 30_000;

export class AvatarConnection extends EventTarget {
  /**
   * @param {string} url  ws(s)://host/ws
   * @param {{ pingIntervalMs?: number }} [options]
   */
  constructor(url, { pingIntervalMs = PING_INTERVAL_MS } = {}) {
    super();
    this.url = url;
    this.pingIntervalMs = pingIntervalMs;
    this.socket = null;
    this.state = 'idle';
    this.config = null;
    this.pingTimer = null;
    this.pingSentAt = 0;
    this.rttMs = null;
    this.pongs = 0;
  }

  connect() {
    this.close();
    this.config = null;
    this.setState('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.setState('open');
      this.pingTimer = setInterval(() => this.ping(), this.pingIntervalMs);
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return; // the dialect is JSON text only
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'config') this.config = msg;
      if (msg.type === 'pong') {
        this.pongs++;
        if (this.pingSentAt) this.rttMs = performance.now() - this.pingSentAt;
      }
      this.dispatchEvent(new CustomEvent('message', { detail: msg }));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      this.socket = null;
      this.setState('closed', { code: event.code, reason: event.reason });
    };
  }

  ping() {
    this.pingSentAt = performance.now();
    this.send({ type: 'ping', timestamp: Date.now() });
  }

  /** Send one message; false when the socket is not open (the caller decides what to tell the user). */
  send(msg) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  get isOpen() {
    return this.state === 'open';
  }

  close() {
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, 'client closed');
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, ...detail } }));
  }
}
