import { createLogger } from '../../src/logger.js';
import { FRAME_DURATION_MS } from '../../src/audio/constants.js';
import { Pacer } from '../../src/pacing/pacer.js';
import type { WindowResult } from '../../src/inference/tasks.js';
import { medianSummary, summarize, type Summary } from '../quantiles.js';

/**
 * Ablation: how late frames are in the main thread's hand (the moment it would ws.send them),
 * against the absolute media clock t0 + max(0, k − lead) · 33.3 ms (t0: frame 0 in hand; the
 * delay from handing the frames over to frame 0 is reported apart, as start delay), for three pacers:
 *   setInterval  — one 33.3 ms interval per session sending the next frame (the naive design);
 *   mainDeadline — setTimeout to each frame's absolute deadline, still on the main thread;
 *   pacingWorker — our Pacer (workers/pacing.js: absolute deadlines, Atomics.wait, batches).
 * Each runs with an idle main thread and with a busy one (0.8 ms tasks back to back with ~1 ms
 * gaps, about what socket I/O at high load looks like), since the main thread's load is what a
 * dedicated clock thread is meant to be independent of.
 */
export type PacerKind = 'setInterval' | 'mainDeadline' | 'pacingWorker';

export interface PacerResult {
  /** Against the turn's clock anchored on its first frame in the main thread's hand. */
  latenessMs: Summary;
  startDelayMs: Summary;
  /** Lateness of each session's last frame: accumulated drift over the turn. */
  endDriftMs: Summary;
}

export interface PacingTimerAblation {
  sessions: number;
  framesPerSession: number;
  leadFrames: number;
  runs: number;
  idle: Record<PacerKind, PacerResult>;
  busy: Record<PacerKind, PacerResult>;
  /** setInterval / pacingWorker lateness p99, busy main thread. */
  p99RatioBusy: number;
  p99RatioIdle: number;
}

interface Recorder {
  lateness: number[];
  lastLateness: number[];
  /** Frames handed to the pacer → frame 0 in the main thread's hand. */
  startDelay: number[];
}

function startBusyLoad(): () => void {
  let stop = false;
  const tick = () => {
    if (stop) return;
    const until = performance.now() + 0.8;
    while (performance.now() < until) {
      // busy: stands for parsing and sending on a loaded main thread
    }
    setTimeout(tick, 1);
  };
  setTimeout(tick, 0);
  return () => {
    stop = true;
  };
}

function runTimerPacer(kind: 'setInterval' | 'mainDeadline', sessions: number, frames: number, lead: number, rec: Recorder): Promise<void> {
  return Promise.all(Array.from({ length: sessions }, (_, s) => new Promise<void>((resolve) => {
    setTimeout(() => {
      const t0 = performance.now();
      const due = (k: number) => t0 + Math.max(0, k - lead) * FRAME_DURATION_MS;
      let k = 0;
      const sendOne = () => {
        const late = performance.now() - due(k);
        rec.lateness.push(Math.max(0, late));
        if (k === frames - 1) rec.lastLateness.push(Math.max(0, late));
        k++;
      };
      rec.startDelay.push(performance.now() - t0);
      while (k <= lead && k < frames) sendOne();
      if (kind === 'setInterval') {
        const timer = setInterval(() => {
          sendOne();
          if (k >= frames) {
            clearInterval(timer);
            resolve();
          }
        }, FRAME_DURATION_MS);
      } else {
        const next = () => {
          if (k >= frames) return resolve();
          setTimeout(() => {
            sendOne();
            next();
          }, Math.max(0, due(k) - performance.now()));
        };
        next();
      }
    }, (s / sessions) * FRAME_DURATION_MS);
  }))).then(() => undefined);
}

async function runWorkerPacer(pacer: Pacer, hooks: { onFrame: ((session: number, frameIndex: number) => void) | null }, runNo: number, sessions: number, frames: number, lead: number, rec: Recorder): Promise<void> {
  const frameBytes = 32;
  const pushedAt = new Map<number, number>();
  const firstAt = new Map<number, number>();
  let remaining = sessions * frames;
  await new Promise<void>((resolve) => {
    hooks.onFrame = (session, k) => {
      const now = performance.now();
      if (!pushedAt.has(session)) return;
      // The clock is judged from the turn's first frame in hand; the hand-over before it is start delay.
      if (k === 0) {
        firstAt.set(session, now);
        rec.startDelay.push(now - pushedAt.get(session)!);
      }
      const start = firstAt.get(session) ?? now;
      const late = Math.max(0, now - (start + Math.max(0, k - lead) * FRAME_DURATION_MS));
      rec.lateness.push(late);
      if (k === frames - 1) rec.lastLateness.push(late);
      if (--remaining === 0) resolve();
    };
    for (let s = 0; s < sessions; s++) {
      setTimeout(() => {
        const key = runNo * 10_000 + s;
        const result: WindowResult = {
          bytes: new Uint8Array(frameBytes * frames), lengths: new Array(frames).fill(frameBytes), timestampOffsets: new Array(frames).fill(0),
          frameCount: frames, inferMs: 0, taskMs: 0, audioMs: frames * FRAME_DURATION_MS, threadId: 0,
        };
        pushedAt.set(key, performance.now());
        pacer.pushFrames(key, 1, 0, result);
        pacer.endTurn(key, 1, frames);
      }, (s / sessions) * FRAME_DURATION_MS);
    }
  });
  hooks.onFrame = null;
}

export async function ablatePacingTimer(opts: { sessions: number; frames: number; runs: number; leadFrames: number }): Promise<PacingTimerAblation> {
  const hooks: { onFrame: ((session: number, frameIndex: number) => void) | null } = { onFrame: null };
  // Exact deadlines (PACING_BATCH_MS 0): this compares timer mechanisms at hitting a deadline.
  const pacer = new Pacer(opts.leadFrames, 0, {
    onFrame: (session, _turn, frameIndex) => hooks.onFrame?.(session, frameIndex),
    onTurnDone: () => undefined,
  }, createLogger('error'));
  await new Promise((r) => setTimeout(r, 200)); // let the worker thread start
  const kinds: PacerKind[] = ['setInterval', 'mainDeadline', 'pacingWorker'];
  const raw: Record<'idle' | 'busy', Record<PacerKind, Recorder[]>> = {
    idle: { setInterval: [], mainDeadline: [], pacingWorker: [] },
    busy: { setInterval: [], mainDeadline: [], pacingWorker: [] },
  };
  let runNo = 0;
  try {
    for (let r = 0; r < opts.runs; r++) {
      for (const load of ['idle', 'busy'] as const) {
        for (const kind of kinds) {
          const stopLoad = load === 'busy' ? startBusyLoad() : () => undefined;
          const rec: Recorder = { lateness: [], lastLateness: [], startDelay: [] };
          if (kind === 'pacingWorker') await runWorkerPacer(pacer, hooks, ++runNo, opts.sessions, opts.frames, opts.leadFrames, rec);
          else await runTimerPacer(kind, opts.sessions, opts.frames, opts.leadFrames, rec);
          stopLoad();
          raw[load][kind].push(rec);
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    }
  } finally {
    await pacer.stop();
  }
  const combine = (recs: Recorder[]): PacerResult => ({
    latenessMs: medianSummary(recs.map((x) => summarize(x.lateness))),
    startDelayMs: medianSummary(recs.map((x) => summarize(x.startDelay))),
    endDriftMs: medianSummary(recs.map((x) => summarize(x.lastLateness))),
  });
  const table = (load: 'idle' | 'busy') => Object.fromEntries(kinds.map((k) => [k, combine(raw[load][k])])) as Record<PacerKind, PacerResult>;
  const idle = table('idle');
  const busy = table('busy');
  return {
    sessions: opts.sessions, framesPerSession: opts.frames, leadFrames: opts.leadFrames, runs: opts.runs, idle, busy,
    p99RatioBusy: busy.setInterval.latenessMs.p99 / busy.pacingWorker.latenessMs.p99,
    p99RatioIdle: idle.setInterval.latenessMs.p99 / idle.pacingWorker.latenessMs.p99,
  };
}
