import type { ClockTimers } from '../../src/pacing/video-frame-clock.js';

/** Virtual time: timers fire when the test says, `late` ms after they were due. */
export function virtualTimers(): ClockTimers & { fireNext(lateMs: number): void; delays: number[]; t: number } {
  let pending: { fn: () => void; at: number } | null = null;
  const v = {
    t: 1000,
    delays: [] as number[],
    now: () => v.t,
    setTimer(fn: () => void, delayMs: number) {
      v.delays.push(delayMs);
      pending = { fn, at: v.t + delayMs };
      return pending;
    },
    clearTimer(handle: unknown) {
      if (pending === handle) pending = null;
    },
    fireNext(lateMs: number) {
      const p = pending!;
      pending = null;
      v.t = p.at + lateMs;
      p.fn();
    },
  };
  return v;
}

