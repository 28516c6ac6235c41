import { readFileSync } from 'node:fs';

/**
 * CPU time of the calling thread, ms, from Linux's /proc/thread-self/schedstat (first field: ns
 * on a CPU). Node 20 has no per-thread CPU clock; comparing it with wall time tells a window that
 * waited for a core (the host is oversubscribed) from one that computed for long. Undefined where
 * the file does not exist (not Linux) — callers then report wall time only.
 */
let available = process.platform === 'linux';

export function threadCpuMs(): number | undefined {
  if (!available) return undefined;
  try {
    const text = readFileSync('/proc/thread-self/schedstat', 'latin1');
    const ns = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    available = false;
    return undefined;
  }
}
