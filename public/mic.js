// Microphone streaming like the widget: PCM16 LE mono at config.audio.inputSampleRate, sent in
// 100 ms chunks (PROTOCOL.md §1.2). Capture and resampling run in an AudioWorklet.

export const MIC_CHUNK_MS = 100;
const FLUSH_TIMEOUT_MS = 300;

export class MicStreamer {
  /**
   * @param {object} o
   * @param {(pcm: Int16Array) => void} o.onChunk  one chunk of PCM16 at the target rate
   * @param {(rms: number) => void} [o.onLevel]
   */
  constructor({ onChunk, onLevel }) {
    this.onChunk = onChunk;
    this.onLevel = onLevel ?? (() => {});
    this.ctx = null;
    this.stream = null;
    this.node = null;
    this.flushed = null;
  }

  get active() {
    return this.ctx !== null;
  }

  async start(targetRate) {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no microphone access here (the page needs https or localhost)');
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    try {
      // The device's own rate; the worklet resamples to what the agent wants.
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
      await this.ctx.audioWorklet.addModule('mic-worklet.js');
      this.node = new AudioWorkletNode(this.ctx, 'mic-capture', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: 'explicit', // stereo mics are mixed down to mono here
        processorOptions: { targetRate, chunkMs: MIC_CHUNK_MS },
      });
      this.node.port.onmessage = (event) => {
        const { pcm, rms, final } = event.data;
        if (pcm.length > 0) this.onChunk(pcm);
        this.onLevel(rms);
        if (final && this.flushed) this.flushed();
      };
      this.ctx.createMediaStreamSource(this.stream).connect(this.node);
      // The node outputs silence; being connected keeps it pulled by the graph in every engine.
      this.node.connect(this.ctx.destination);
      if (this.ctx.state === 'suspended') await this.ctx.resume();
    } catch (err) {
      await this.release();
      throw err;
    }
  }

  /** Stop capturing; the partial last chunk is delivered before this resolves. */
  async stop() {
    if (!this.node) return this.release();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      this.flushed = () => {
        clearTimeout(timer);
        resolve();
      };
      this.node.port.postMessage('flush');
    });
    this.flushed = null;
    await this.release();
  }

  async release() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    if (this.node) this.node.port.onmessage = null;
    this.node = null;
    const ctx = this.ctx;
    this.ctx = null;
    this.onLevel(0);
    if (ctx) await ctx.close().catch(() => {});
  }
}
