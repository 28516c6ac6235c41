// Plays the server's sync_frames in sync (PROTOCOL.md §1.4): each frame carries 1/30 s of PCM
// and the blendshape weights for that same 1/30 s. Audio is scheduled on the AudioContext clock
// behind a small jitter buffer; the weights are kept on a timeline with the same context times,
// so the face shows a frame exactly while its audio is heard.

/** Like the widget: start a turn once this many frames are buffered (~100 ms). */
export const START_AFTER_FRAMES = 3;
/** Headroom between "now" and a frame's start, so a start time is never already in the past. */
const SCHEDULE_LEAD_S = 0.03;
/** After an underrun, wait this much longer so the next few frames can catch up. */
const REBUFFER_S = 0.06;

export class SyncPlayer {
  /**
   * @param {object} o
   * @param {object} o.counters  debug counters, updated in place (framesScheduled, …)
   * @param {(turnId: string) => void} [o.onTurnPlayed]  a turn's last frame finished playing
   */
  constructor({ counters, onTurnPlayed }) {
    this.counters = counters;
    this.onTurnPlayed = onTurnPlayed ?? (() => {});
    this.sampleRate = 24000;
    this.ctx = null;
    this.output = null;
    /** turnId → { buffered, started, ended, nextTime, sources, lastEnd } */
    this.turns = new Map();
    /** Scheduled frames in time order: { time, duration, weights, turnId, frameIndex }. */
    this.timeline = [];
    this.lastAppliedEntry = null;
  }

  setSampleRate(sampleRate) {
    this.sampleRate = sampleRate;
  }

  /** Create or resume the AudioContext; call from a user gesture where possible (autoplay rules). */
  unlock() {
    if (!this.ctx) {
      try {
        // At the stream's own rate, so 1/30 s buffers butt together without resampling seams.
        this.ctx = new AudioContext({ sampleRate: this.sampleRate, latencyHint: 'interactive' });
      } catch {
        this.ctx = new AudioContext({ latencyHint: 'interactive' });
      }
      this.output = this.ctx.createGain();
      this.output.connect(this.ctx.destination);
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    return this.ctx;
  }

  get contextState() {
    return this.ctx ? this.ctx.state : 'none';
  }

  hasTurn(turnId) {
    return this.turns.has(turnId);
  }

  activeTurnIds() {
    return [...this.turns.keys()];
  }

  beginTurn(turnId) {
    if (this.turns.has(turnId)) return;
    this.unlock();
    this.turns.set(turnId, { buffered: [], started: false, ended: false, nextTime: 0, sources: new Set(), lastEnd: 0 });
    this.counters.scheduledByTurn[turnId] = 0;
  }

  pushFrame(turnId, frameIndex, weights, samples) {
    const turn = this.turns.get(turnId);
    if (!turn) return;
    if (turn.started) {
      this.scheduleFrame(turnId, turn, { frameIndex, weights, samples });
      return;
    }
    turn.buffered.push({ frameIndex, weights, samples });
    if (turn.buffered.length >= START_AFTER_FRAMES) this.startTurn(turnId, turn);
  }

  /** audio_end: a turn shorter than the jitter buffer starts now with what it has. */
  endTurn(turnId) {
    const turn = this.turns.get(turnId);
    if (!turn) return;
    turn.ended = true;
    if (!turn.started) this.startTurn(turnId, turn);
  }

  startTurn(turnId, turn) {
    const ctx = this.unlock();
    turn.started = true;
    // After the tail of the previous turn, if it is still playing.
    const previousEnd = this.timeline.length ? this.timeline[this.timeline.length - 1].time + this.timeline[this.timeline.length - 1].duration : 0;
    turn.nextTime = Math.max(ctx.currentTime + SCHEDULE_LEAD_S, previousEnd);
    for (const frame of turn.buffered) this.scheduleFrame(turnId, turn, frame);
    turn.buffered = [];
  }

  scheduleFrame(turnId, turn, frame) {
    const ctx = this.ctx;
    const earliest = ctx.currentTime + SCHEDULE_LEAD_S;
    if (turn.nextTime < earliest) {
      this.counters.underruns++;
      turn.nextTime = earliest + REBUFFER_S;
    }
    const buffer = ctx.createBuffer(1, frame.samples.length, this.sampleRate);
    buffer.copyToChannel(frame.samples, 0);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    source.start(turn.nextTime);
    turn.sources.add(source);
    source.onended = () => {
      turn.sources.delete(source);
      this.counters.framesPlayed++;
    };
    this.timeline.push({ time: turn.nextTime, duration: buffer.duration, weights: frame.weights, turnId, frameIndex: frame.frameIndex });
    turn.nextTime += buffer.duration;
    turn.lastEnd = turn.nextTime;
    this.counters.framesScheduled++;
    this.counters.scheduledByTurn[turnId] = (this.counters.scheduledByTurn[turnId] ?? 0) + 1;
  }

  /** Interrupt: silence the turn at once and forget its frames, scheduled or buffered. */
  stopTurn(turnId) {
    const turn = this.turns.get(turnId);
    if (!turn) return;
    for (const source of turn.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // not started yet in some engines' eyes; disconnecting is enough
      }
      source.disconnect();
    }
    this.counters.framesStopped += turn.sources.size;
    turn.sources.clear();
    this.turns.delete(turnId);
    this.timeline = this.timeline.filter((e) => e.turnId !== turnId);
    if (this.lastAppliedEntry?.turnId === turnId) this.lastAppliedEntry = null;
  }

  stopAll() {
    for (const turnId of [...this.turns.keys()]) this.stopTurn(turnId);
  }

  /** Context time of the sample being heard right now (output latency included where known). */
  playhead() {
    const ctx = this.ctx;
    if (!ctx) return 0;
    const stamp = ctx.getOutputTimestamp ? ctx.getOutputTimestamp() : null;
    if (stamp && stamp.contextTime > 0 && stamp.performanceTime > 0) {
      return stamp.contextTime + (performance.now() - stamp.performanceTime) / 1000;
    }
    return ctx.currentTime - (ctx.outputLatency || ctx.baseLatency || 0);
  }

  /** Seconds of audio scheduled ahead of the playhead (the jitter buffer's depth). */
  bufferedSeconds() {
    const last = this.timeline[this.timeline.length - 1];
    return last ? Math.max(0, last.time + last.duration - this.playhead()) : 0;
  }

  isPlaying() {
    if (this.timeline.length > 0 && this.bufferedSeconds() > 0) return true;
    for (const turn of this.turns.values()) if (!turn.started && turn.buffered.length > 0) return true;
    return false;
  }

  /**
   * What the face should show now: the weights of the frame being heard, blended towards its
   * neighbour (frames describe 1/30 s intervals; blending between their centres avoids a 30 Hz
   * staircase on a 60 Hz screen). null when nothing is heard.
   */
  sample() {
    if (!this.ctx) return null;
    const now = this.playhead();
    this.retirePlayed(now);
    const entries = this.timeline;
    let k = -1;
    for (let i = 0; i < entries.length && entries[i].time <= now; i++) k = i;
    if (k < 0) return null;
    const entry = entries[k];
    if (now >= entry.time + entry.duration) return null; // a gap (underrun) or the end
    if (entry !== this.lastAppliedEntry) {
      this.lastAppliedEntry = entry;
      this.counters.framesApplied++;
    }
    const centre = entry.time + entry.duration / 2;
    const contiguous = (a, b) => a && b && a.turnId === b.turnId && Math.abs(a.time + a.duration - b.time) < 1e-4;
    let weights = entry.weights;
    if (now >= centre && contiguous(entry, entries[k + 1])) {
      weights = blend(entry.weights, entries[k + 1].weights, (now - centre) / entry.duration);
    } else if (now < centre && contiguous(entries[k - 1], entry)) {
      weights = blend(entries[k - 1].weights, entry.weights, 0.5 + (now - entry.time) / entry.duration);
    }
    const turnMs = (entry.frameIndex + (now - entry.time) / entry.duration) * (1000 / 30);
    return { weights, turnId: entry.turnId, turnMs };
  }

  /** Drop timeline entries heard long ago (one is kept for blending); finish turns that ran out. */
  retirePlayed(now) {
    let drop = 0;
    while (drop < this.timeline.length - 1 && this.timeline[drop + 1].time + this.timeline[drop + 1].duration < now) drop++;
    if (drop > 0) this.timeline.splice(0, drop);
    for (const [turnId, turn] of this.turns) {
      if (turn.ended && turn.started && turn.lastEnd <= now) {
        this.turns.delete(turnId);
        this.timeline = this.timeline.filter((e) => e.turnId !== turnId || e.time + e.duration > now);
        this.onTurnPlayed(turnId);
      }
    }
  }
}

function blend(a, b, t) {
  const out = {};
  for (const name in a) out[name] = a[name] + ((b[name] ?? 0) - a[name]) * t;
  return out;
}
