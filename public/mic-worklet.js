// AudioWorklet: microphone → mono PCM16 at the agent's input rate, in fixed-size chunks.
// Runs on the audio thread, so resampling and chunking never wait for the page's main thread.

class MicCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate, chunkMs } = options.processorOptions;
    // Input samples per output sample (`sampleRate` is the context's rate, a worklet global).
    this.step = sampleRate / targetRate;
    this.chunk = new Int16Array(Math.round((targetRate * chunkMs) / 1000));
    this.filled = 0;
    this.sum = 0;
    this.need = this.step;
    this.squares = 0;
    this.port.onmessage = (event) => {
      if (event.data === 'flush') {
        this.post(true);
      }
    };
  }

  /**
   * Box-filter resampling: each output sample is the mean of the input over its own interval,
   * fractional edges included. Averaging is a cheap low-pass, so downsampling 48 kHz speech
   * does not fold hiss into the band the agent listens to.
   */
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const x = channel[i];
      let left = 1;
      while (left > 0) {
        const take = Math.min(left, this.need);
        this.sum += x * take;
        this.need -= take;
        left -= take;
        if (this.need <= 1e-9) {
          this.emit(this.sum / this.step);
          this.sum = 0;
          this.need = this.step;
        }
      }
    }
    return true;
  }

  emit(value) {
    const clamped = value < -1 ? -1 : value > 1 ? 1 : value;
    this.squares += clamped * clamped;
    this.chunk[this.filled++] = clamped < 0 ? Math.round(clamped * 32768) : Math.round(clamped * 32767);
    if (this.filled === this.chunk.length) this.post(false);
  }

  /** Hand a chunk to the page (transferred, not copied); `final` answers a flush, even if empty. */
  post(final) {
    const count = this.filled;
    const pcm = this.chunk.slice(0, count);
    const rms = count ? Math.sqrt(this.squares / count) : 0;
    this.filled = 0;
    this.squares = 0;
    this.port.postMessage({ pcm, rms, final }, [pcm.buffer]);
  }
}

registerProcessor('mic-capture', MicCaptureProcessor);
