/**
 * Reconnects an agent's upstream connection with exponential backoff (base · 2^attempt, capped);
 * after `maxAttempts` failed attempts in a row it gives up, once. Shared by every agent with a
 * long-lived upstream socket, so they all recover (and give up) the same way.
 */
export interface ReconnectorOptions {
  /** Opens the connection; resolves when usable. */
  open: () => Promise<void>;
  /** Called once when the attempts are exhausted. */
  onGiveUp: () => void;
  onReconnected?: (attempts: number) => void;
  onAttemptFailed?: (err: Error, attempt: number) => void;
  maxAttempts?: number;
  baseMs?: number;
  capMs?: number;
}

export class Reconnector {
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: ReconnectorOptions) {}

  /** Schedule the next attempt. Returns its delay in ms, or null when it gave up. */
  schedule(): number | null {
    if (this.stopped || this.timer) return null;
    if (this.attempts >= (this.o.maxAttempts ?? 5)) {
      this.o.onGiveUp();
      return null;
    }
    const delayMs = Math.min(this.o.capMs ?? 5000, (this.o.baseMs ?? 250) * 2 ** this.attempts++);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.o.open().then(
        () => {
          const attempts = this.attempts;
          this.attempts = 0;
          this.o.onReconnected?.(attempts);
        },
        (err: Error) => {
          this.o.onAttemptFailed?.(err, this.attempts);
          this.schedule();
        },
      );
    }, delayMs);
    this.timer.unref();
    return delayMs;
  }

  /** A connection opened by other means (the first one): start counting afresh. */
  reset(): void {
    this.attempts = 0;
  }

  /** No more attempts (the session is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
