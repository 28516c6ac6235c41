/** Counters the sessions report into; rendered by src/metrics/prometheus.ts. Main thread only. */
export class ServerMetrics {
  turnsStarted = 0;
  turnsCompleted = 0;
  turnsInterrupted = 0;
  sessionsOpened = 0;
  readonly errorsByCode = new Map<string, number>();

  error(code: string): void {
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }
}
