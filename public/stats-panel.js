// The engineers' panel: the server's live numbers from GET /stats (pacing, inference, event
// loop) next to what this page sees (jitter buffer, underruns, round trip).

const POLL_MS = 1000;
/** This page's own numbers move faster than the server's summary; redraw them more often. */
const RENDER_MS = 250;

const fmt = (v, digits = 1, unit = '') => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '—');

export class StatsPanel {
  /**
   * @param {HTMLElement} root  holds <dd data-stat="…"> cells
   * @param {() => Record<string, string>} clientRows  this page's own numbers, already formatted
   */
  constructor(root, clientRows) {
    this.root = root;
    this.clientRows = clientRows;
    this.timer = null;
    this.last = null;
    this.failures = 0;
  }

  start() {
    const poll = async () => {
      try {
        const res = await fetch('stats', { cache: 'no-store' });
        this.last = await res.json();
        this.failures = 0;
      } catch {
        this.failures++;
      }
      this.render();
    };
    void poll();
    this.timer = setInterval(poll, POLL_MS);
    this.renderTimer = setInterval(() => this.render(), RENDER_MS);
  }

  render() {
    const s = this.last ?? {};
    const pacing = s.pacing ?? {};
    const inference = s.inference ?? {};
    const loop = s.eventLoop ?? {};
    const rows = {
      fps: fmt(pacing.framesLastSecond, 0),
      lateness: `${fmt(pacing.latenessP50Ms, 1)} / ${fmt(pacing.latenessP99Ms, 1)} ms`,
      underrunsServer: `${fmt(pacing.underruns, 0)} / ${fmt(pacing.reanchors, 0)}`,
      rtf: `${fmt(inference.rtfP50, 4)} / ${fmt(inference.rtfP95, 4)}`,
      windowMs: `${fmt(inference.windowMsP50, 1)} / ${fmt(inference.windowMsP95, 1)} ms`,
      loopDelay: `${fmt(loop.delayP50Ms, 1)} / ${fmt(loop.delayP99Ms, 1)} ms`,
      sessions: s.sessions === undefined ? '—' : `${s.sessions} (${s.speakingSessions ?? 0} speaking)`,
      statsAge: this.failures ? `unreachable (${this.failures})` : 'live',
      ...this.clientRows(),
    };
    for (const [name, value] of Object.entries(rows)) {
      const cell = this.root.querySelector(`[data-stat="${name}"]`);
      if (cell && cell.textContent !== value) cell.textContent = value;
    }
  }
}
