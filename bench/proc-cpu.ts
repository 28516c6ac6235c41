import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time of another process, and of its main thread alone, read from /proc (Linux): the
 * server needs no extra endpoint, and the bench can tell the main thread (socket I/O) from the
 * worker threads (inference, pacing, GC helpers). Resolution is one clock tick (usually 10 ms),
 * so callers take deltas over seconds of work.
 */
let ticksPerSecond = 0;

function clockTicks(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a /proc stat file, and stime alone (time in the kernel), ms; NaN when it cannot be read. */
function statCpuMs(path: string): { totalMs: number; kernelMs: number } {
  try {
    const text = readFileSync(path, 'utf8');
    // Fields after the command name, which may contain spaces, are counted from its ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { totalMs: ((utime + stime) / clockTicks()) * 1000, kernelMs: (stime / clockTicks()) * 1000 };
  } catch {
    return { totalMs: Number.NaN, kernelMs: Number.NaN };
  }
}

export interface CpuSample {
  /** performance.now() of the bench process. */
  atMs: number;
  mainThreadMs: number;
  /** Of which in the kernel (stime): socket sends and receives, wake-ups. */
  mainThreadKernelMs: number;
  /**
   * The main thread's voluntary context switches so far: each is the thread going to sleep with
   * nothing to do (its event loop waiting), so each is one wake-up later; NaN when unreadable.
   */
  mainThreadSleeps: number;
  processMs: number;
}

/** `voluntary_ctxt_switches` of a /proc status file; NaN when it cannot be read. */
function voluntarySwitches(path: string): number {
  try {
    const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function sampleCpu(pid: number): CpuSample {
  const main = statCpuMs(`/proc/${pid}/task/${pid}/stat`);
  return {
    atMs: performance.now(), mainThreadMs: main.totalMs, mainThreadKernelMs: main.kernelMs,
    mainThreadSleeps: voluntarySwitches(`/proc/${pid}/task/${pid}/status`), processMs: statCpuMs(`/proc/${pid}/stat`).totalMs,
  };
}

export interface CpuDelta {
  wallMs: number;
  mainThreadMs: number;
  mainThreadKernelMs: number;
  /** The main thread's wake-ups (voluntary context switches) per second of wall time. */
  mainThreadWakeupsPerS: number;
  processMs: number;
  /** Cores' worth of CPU used, e.g. 0.5 = half a core. */
  mainThreadCores: number;
  processCores: number;
}

export function cpuDelta(from: CpuSample, to: CpuSample): CpuDelta {
  const wallMs = to.atMs - from.atMs;
  const mainThreadMs = to.mainThreadMs - from.mainThreadMs;
  const processMs = to.processMs - from.processMs;
  return {
    wallMs, mainThreadMs, mainThreadKernelMs: to.mainThreadKernelMs - from.mainThreadKernelMs,
    mainThreadWakeupsPerS: ((to.mainThreadSleeps - from.mainThreadSleeps) * 1000) / wallMs,
    processMs, mainThreadCores: mainThreadMs / wallMs, processCores: processMs / wallMs,
  };
}

/** The whole machine's busy and total CPU time from /proc/stat (all processes), ms; NaN if unreadable. */
export interface HostCpuSample {
  atMs: number;
  busyMs: number;
}

export function sampleHostCpu(): HostCpuSample {
  const atMs = performance.now();
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    const f = line!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = f.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + (v || 0)), 0);
    return { atMs, busyMs: (busy / clockTicks()) * 1000 };
  } catch {
    return { atMs, busyMs: Number.NaN };
  }
}

/** Cores' worth of CPU the whole machine used between two samples. */
export function hostCores(from: HostCpuSample, to: HostCpuSample): number {
  return (to.busyMs - from.busyMs) / (to.atMs - from.atMs);
}
