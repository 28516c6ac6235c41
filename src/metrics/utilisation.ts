/**
 * A busy fraction over a sliding window: a cumulative busy-time counter (ms) sampled once a
 * second, divided by the wall time of the window times the parallel units that could be busy.
 * For the inference pool that is Σ task time / (window × workers): 0 idle, 1 every worker busy
 * all the time. Cumulative figures (the pool's `utilization` is since start) cannot follow load,
 * which is what an autoscaler and a readiness threshold need.
 */
export class BusyRatio {
  private readonly samples: Array<{ atMs: number; busyMs: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly busyMs: () => number,
    private readonly units: () => number,
    private readonly windowS = 5,
    sampleEveryMs = 1000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), sampleEveryMs);
    this.timer.unref();
  }

  private sample(): void {
    this.samples.push({ atMs: performance.now(), busyMs: this.busyMs() });
    // Keep one sample at or before the window's start, so the window is always complete.
    while (this.samples.length > this.windowS + 1) this.samples.shift();
  }

  /** Busy fraction over the last `windowS` seconds up to now (0..1; a little above 1 can only come from rounding). */
  get value(): number {
    const first = this.samples[0]!;
    const elapsedMs = performance.now() - first.atMs;
    const units = Math.max(1, this.units());
    if (elapsedMs <= 0) return 0;
    return Math.max(0, (this.busyMs() - first.busyMs) / (elapsedMs * units));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
