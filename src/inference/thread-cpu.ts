import { openSync, readSync } from 'node:fs';

/**
 * CPU time of the calling thread, ms, from Linux's /proc/thread-self/schedstat (first field: ns
 * on a CPU). Node 20 has no per-thread CPU clock; comparing it with wall time tells a window that
 * waited for a core (the host is oversubscribed) from one that computed for long. Undefined where
 * the file does not exist (not Linux) — callers then report wall time only.
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
