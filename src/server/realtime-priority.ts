import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Real-time scheduling for the two threads whose wake-up latency the user hears and sees: the main
 * thread (socket I/O) and the pacing worker (the media clock). Both mostly sleep and wake for short
 * work. On a host whose cores are shared with CPU-bound threads (the inference workers, another
 * process), the kernel's fair scheduler lets a waking thread wait for a core until the running one
 * blocks or the next tick: on our 2-core bench VM an event loop beside two threads running 4 ms
 * bursts read a p99 delay of 4–9 ms at nice 0 and ~4 ms at nice −20, and ~0.1 ms at SCHED_RR
 * (README, "Real-time priority"). A real-time thread preempts a fair-scheduled one at once.
 *
 * SCHED_RR with SCHED_RESET_ON_FORK: threads and processes these threads create later (worker
 * threads, ffmpeg) start at the normal policy, so only these two run real-time, never the model.
 * The kernel still keeps 5 % of every second for other work (sched_rt_runtime_us) if a
 * real-time thread ever spins. Node has no API for sched_setscheduler, and a native addon would
 * need a compiler at install time: util-linux's `chrt` (part of every Debian, including the
 * node:20 images) sets it, once, at start.
 *
 * Off by default: it makes the main thread spend more CPU per frame (×1.11 in the bench's pairs,
 * ×1.4–1.5 in dev pairs on a quiet host: more, smaller wake-ups) for a loop delay p99 of ~1 ms
 * instead of 2–4 ms (README, "Real-time priority").
 */

/**
 * REALTIME_PRIORITY as configured (default off: see the README for what it costs). `auto` tries
 * priority 10 and says so quietly if not permitted.
 */
export interface RealtimeSetting {
  /** SCHED_RR priority, 1–99; 0: off. */
  priority: number;
  /** Set as a number: a failure is a warning; `auto`: an info line. */
  explicit: boolean;
}

export const AUTO_REALTIME_PRIORITY = 10;

export interface ThreadScheduling {
  /** The kernel's policy name: normal (SCHED_OTHER), fifo, rr, batch, idle, deadline. */
  policy: string;
  /** rt_priority: 1–99 under fifo/rr, 0 otherwise. */
  rtPriority: number;
  nice: number;
}

export interface RealtimeThreadState extends ThreadScheduling {
  name: string;
  tid: number;
}

export interface RealtimeState {
  /** on: every named thread runs SCHED_RR; off: not asked; failed: asked and not permitted/possible. */
  status: 'on' | 'off' | 'failed';
  priority: number;
  threads: RealtimeThreadState[];
  /** Why it failed (chrt's message or what was missing). */
  reason?: string;
}

const POLICIES = ['normal', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline'];

/** The calling thread's kernel thread id (Linux), or null where /proc/thread-self is missing. */
export function currentThreadId(): number | null {
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A thread's scheduling (this process's by default), from /proc; null when it is gone or not Linux. */
export function threadScheduling(tid: number, pid: number | 'self' = 'self'): ThreadScheduling | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const nice = Number(rest[19 - 3]);
  const rtPriority = Number(rest[40 - 3]);
  const policy = Number(rest[41 - 3]);
  if (!Number.isInteger(policy) || !Number.isInteger(rtPriority)) return null;
  return { policy: POLICIES[policy] ?? String(policy), rtPriority, nice };
}

function chrt(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('chrt', args, { timeout: 5000, windowsHide: true }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new Error('chrt (util-linux) not found on PATH'));
      const text = String(stderr).trim().split('\n').pop() || err.message;
      reject(new Error(text));
    });
  });
}

/**
 * Put `threads` (this process's) on SCHED_RR at the setting's priority. Never throws: the server
 * runs either way, and the state says what happened (logged once, shown in /stats and /metrics).
 */
export async function applyRealtimePriority(setting: RealtimeSetting, threads: Array<{ name: string; tid: number | null }>, logger: Logger): Promise<RealtimeState> {
  const known = threads.filter((t): t is { name: string; tid: number } => t.tid !== null);
  const describe = (): RealtimeThreadState[] => known.map((t) => ({ ...t, ...(threadScheduling(t.tid) ?? { policy: 'unknown', rtPriority: 0, nice: 0 }) }));
  if (setting.priority === 0) return { status: 'off', priority: 0, threads: describe() };
  let reason: string | undefined;
  const changed: number[] = [];
  if (known.length < threads.length) reason = `no thread id for ${threads.filter((t) => t.tid === null).map((t) => t.name).join(', ')} (not Linux?)`;
  else {
    for (const t of known) {
      try {
        await chrt(['--rr', '--reset-on-fork', '-p', String(setting.priority), String(t.tid)]);
        changed.push(t.tid);
      } catch (err) {
        reason = `${t.name} thread: ${(err as Error).message}`;
        break;
      }
    }
  }
  if (reason === undefined) {
    // What the kernel now runs, read once: it decides between on and failed.
    const state = describe();
    const off = state.filter((t) => t.policy !== 'rr' || t.rtPriority !== setting.priority);
    if (off.length === 0) {
      logger.info({ priority: setting.priority, threads: state.map((t) => `${t.name}:${t.tid}`) }, 'real-time priority: main and pacing threads on SCHED_RR');
      return { status: 'on', priority: setting.priority, threads: state };
    }
    reason = `still ${off.map((t) => `${t.name} ${t.policy}`).join(', ')} after chrt`;
  }
  // All or none: a thread already changed goes back to the normal policy (best effort).
  for (const tid of changed) await chrt(['--other', '-p', '0', String(tid)]).catch(() => undefined);
  const state = describe();
  const hint = 'needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least the priority (docker run --ulimit rtprio=' + setting.priority + ')';
  const fields = { priority: setting.priority, reason, hint };
  if (setting.explicit) logger.warn(fields, 'real-time priority not set: threads stay on the normal scheduler');
  else logger.info(fields, 'real-time priority not available: threads stay on the normal scheduler');
  return { status: 'failed', priority: setting.priority, threads: state, reason };
}
