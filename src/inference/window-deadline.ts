import type { Logger } from 'pino';
import type { WindowResult, WindowTask } from './tasks.js';

/**
 * When a window's frames are needed. The session supplies it from the pacer's clock, so it
 * follows the clock when the pacer re-anchors.
 */
export interface WindowDeadline {
  /** performance.now() (ms) at which the window's first frame is due at the pacer; undefined before the turn's clock starts. */
  dueAtMs(): number | undefined;
  /**
   * Its place in the inference queue (performance.now() ms); default: `dueAtMs()`, or the
   * dispatch time before the clock runs (due at once).
   */
  orderAtMs?(): number;
  /** False once nobody waits for the window (its turn was interrupted or the session closed). */
  stillNeeded(): boolean;
}

/**
 * A neutral fill must reach the pacer before the frame is due: the fill worker's encode (~1 ms per
 * second of audio) and two thread hand-offs, with room for a busy host.
 */
export const FILL_MARGIN_MS = 40;
/**
 * A hedge is a real model run on another worker (a few ms per window on the shipped model); it is
 * started this long before the fill point so it usually wins and the face keeps moving.
 */
export const HEDGE_BUDGET_MS = 100;
/**
 * However close its due time, a window is given this long (or 4× the recent slowest round trip,
 * if more) before it is filled: an agent that streams at real time hands windows over at about
 * their due time, and filling those would swap good weights for neutral ones to gain nothing.
 */
export const MIN_TASK_BUDGET_MS = 150;
/** …and this long (or 2× the recent slowest round trip) before it is hedged. */
export const MIN_HEDGE_WAIT_MS = 50;

export interface LateWindowHandlers {
  /** The window as usual (with the pool's retry-once-then-neutral policy). */
  original(task: WindowTask): Promise<WindowResult>;
  /** True when a worker is free, so a hedge runs now instead of queueing behind the late one. */
  hasIdleWorker(): boolean;
  /** One more run of the same task on the pool (Piscina gives it to a free worker, never the busy one). */
  hedge(task: WindowTask): Promise<WindowResult>;
  /** Neutral weights for the window, encoded in the fill worker. */
  fill(task: WindowTask): Promise<WindowResult>;
  /** Recent slowest dispatch → result time of a window, ms (adapts the minimum budgets to load). */
  recentSlowestMs(): number;
  onHedge(): void;
  onFill(): void;
  /** A result that came back after another one had been used: discarded. */
  onLateDiscarded(source: 'original' | 'hedge' | 'fill'): void;
  logger: Logger;
}

export type WindowSource = 'original' | 'hedge' | 'fill';

/**
 * Run one window so that it is back by the time its frames are needed: at the hedge point, if the
 * original is not back and a worker is free, the same window runs there too; at the fill point
 * (due time − FILL_MARGIN_MS), neutral weights for the window's exact audio are made in the fill
 * worker. The first result wins; the task's `abandoned` flag then tells any copy still queued to
 * skip, and a copy that finishes later is discarded. A stuck worker therefore costs one window of
 * neutral weights, not a stall until INFERENCE_TASK_TIMEOUT_MS.
 */
export function runBeforeDeadline(task: WindowTask, deadline: WindowDeadline, h: LateWindowHandlers): Promise<{ result: WindowResult; source: WindowSource }> {
  const dispatchedAt = performance.now();
  const abandoned = new Int32Array(new SharedArrayBuffer(4));
  const shared: WindowTask = { ...task, abandoned: abandoned.buffer as SharedArrayBuffer };
  return new Promise((resolve, reject) => {
    let settled = false;
    let hedged = false;
    let filled = false;
    let originalFailed: unknown = null;
    let fillFailed = false;
    let timer: NodeJS.Timeout | null = null;

    const win = (result: WindowResult, source: WindowSource): void => {
      if (result.abandoned) return;
      if (settled) {
        h.onLateDiscarded(source);
        h.logger.debug({ sessionId: task.sessionId, turnId: task.turnId, firstFrameIndex: task.firstFrameIndex, source }, 'late window result discarded');
        return;
      }
      settled = true;
      Atomics.store(abandoned, 0, 1);
      if (timer) clearTimeout(timer);
      resolve({ result, source });
    };

    const startFill = (): void => {
      if (filled || settled) return;
      filled = true;
      h.onFill();
      h.logger.warn({ sessionId: task.sessionId, turnId: task.turnId, firstFrameIndex: task.firstFrameIndex, waitedMs: Math.round(performance.now() - dispatchedAt) }, 'window late: filled with neutral weights');
      h.fill(shared).then(
        (r) => win(r, 'fill'),
        (err: unknown) => {
          h.logger.error({ err }, 'neutral fill failed');
          fillFailed = true;
          if (originalFailed !== null && !settled) {
            settled = true;
            reject(originalFailed);
          }
        },
      );
    };

    const points = (): { hedgeAt: number; fillAt: number } => {
      const slowest = h.recentSlowestMs();
      const due = deadline.dueAtMs();
      const fillAt = Math.max(due === undefined ? -Infinity : due - FILL_MARGIN_MS, dispatchedAt + Math.max(MIN_TASK_BUDGET_MS, 4 * slowest));
      const hedgeAt = Math.max(fillAt - HEDGE_BUDGET_MS, dispatchedAt + Math.max(MIN_HEDGE_WAIT_MS, 2 * slowest));
      return { hedgeAt, fillAt };
    };

    const check = (): void => {
      timer = null;
      if (settled) return;
      if (!deadline.stillNeeded()) return; // the original still settles the promise; nobody needs it early
      const now = performance.now();
      const { hedgeAt, fillAt } = points();
      if (now >= fillAt) {
        startFill();
        return;
      }
      if (!hedged && now >= hedgeAt && h.hasIdleWorker()) {
        hedged = true;
        h.onHedge();
        h.logger.warn({ sessionId: task.sessionId, turnId: task.turnId, firstFrameIndex: task.firstFrameIndex, waitedMs: Math.round(now - dispatchedAt) }, 'window late: hedged on another worker');
        h.hedge(shared).then((r) => win(r, 'hedge'), (err: unknown) => h.logger.warn({ err }, 'hedged window failed'));
      }
      // Re-check at the next point; the due time may have moved (the pacer re-anchored).
      const next = hedged || now >= hedgeAt ? fillAt : hedgeAt;
      timer = setTimeout(check, Math.max(1, next - now));
    };

    h.original(shared).then(
      (r) => win(r, 'original'),
      (err: unknown) => {
        if (settled) return;
        originalFailed = err;
        // The pool's own retries are spent: neutral weights now, or give up if that failed too.
        if (!filled) startFill();
        else if (fillFailed) {
          settled = true;
          reject(err);
        }
      },
    );
    check();
  });
}
