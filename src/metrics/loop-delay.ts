import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The server reports event-loop delay over windows of this many seconds (the bench's idle probe too). */
export const LOOP_DELAY_WINDOW_S = 5;

/** The sampling timer's period, ms (see the constructor). */
export const DEFAULT_RESOLUTION_MS = 10;

export interface LoopDelaySnapshot {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Event-loop delay, in ms. Node 20's monitorEventLoopDelay records the whole interval between its
 * timer ticks, so an idle loop reads about its sampling resolution (p50 ≈ 5 ms at resolution 5);
 * the delay a task caused is that reading minus the resolution.
 */
export class LoopDelayMonitor {
  private readonly h: IntervalHistogram;

  /**
   * Every tick wakes the loop, and on this project's VMs a wake-up of a sleeping thread costs the
   * main thread ~50 µs of CPU (context switch and the hypervisor's halt/wake-up): at 2 ms the
   * monitor alone made 500 wake-ups a second, a quarter of all the main thread's wake-ups at 50
   * speaking sessions. 10 ms (prom-client's default) reads the same delays with a fifth of the ticks.
   */
  constructor(readonly resolutionMs = DEFAULT_RESOLUTION_MS) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
  }

  private delayMs(ns: number): number {
    return Math.max(0, ns / 1e6 - this.resolutionMs);
  }

  snapshot(): LoopDelaySnapshot {
    const r = (v: number) => +v.toFixed(3);
    return { p50Ms: r(this.delayMs(this.h.percentile(50))), p99Ms: r(this.delayMs(this.h.percentile(99))), maxMs: r(this.delayMs(this.h.max)) };
  }

  /** Timer ticks recorded since the last reset. */
  get samples(): number {
    return this.h.count;
  }

  reset(): void {
    this.h.reset();
  }

  stop(): void {
    this.h.disable();
  }
}
