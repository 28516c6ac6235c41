/**
 * "Wait until this holds" for test fakes and clients: `waitFor` re-checks its probe whenever
 * `wake()` is called (a message arrived) and at least every 50 ms, until a deadline.
 */
export class Waiters {
  private pending: Array<() => void> = [];

  constructor(private readonly label: string) {}

  wake(): void {
    const w = this.pending;
    this.pending = [];
    for (const f of w) f();
  }

  async waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
    return this.waitForAsync(async () => probe(), timeoutMs);
  }

  /** `waitFor` with a probe that has to ask something first (an HTTP endpoint, a file). */
  async waitForAsync<T>(probe: () => Promise<T | undefined | false | null>, timeoutMs = 10_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.label}: timed out`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.pending.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
