import { openSync, readSync } from 'node:fs';

/**
 * CPU time of the calling thread, ms, from Linux's /proc/thread-self/schedstat (first field: ns
 * on a CPU). Node 20 has no per-thread CPU clock. Undefined where the file does not exist (not
 * Linux) — callers then report wall time only.
 *
 * The kernel brings that total up to date at scheduler ticks and context switches, not when it is
 * read: a running thread's own reading is up to one tick old. The difference of two readings a
 * few ms apart (one window) is therefore mostly wrong — it read ~0.8 ms for windows that cost
 * ~2 ms, and a CPU/wall ratio built on it looked like a thread starved of a core. Only the growth
 * of the total over many ticks is exact (to one tick): the pool adds up each thread's running
 * total between results (src/inference/window-stats.ts).
 *
 * The file is opened once per thread (each worker thread has its own copy of this module, and
 * /proc/thread-self resolves to the thread that opens it) and re-read from offset 0 with pread:
 * one syscall per reading instead of open + read + close.
 */
let fd: number | undefined;
let available = process.platform === 'linux';
const buf = Buffer.alloc(64);

export function threadCpuMs(): number | undefined {
  if (!available) return undefined;
  try {
    fd ??= openSync('/proc/thread-self/schedstat', 'r');
    const n = readSync(fd, buf, 0, buf.length, 0);
    const space = buf.indexOf(32);
    const ns = Number(buf.toString('latin1', 0, space > 0 && space < n ? space : n));
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    available = false;
    return undefined;
  }
}
