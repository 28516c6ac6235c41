import { Piscina } from 'piscina';
import type { Logger } from 'pino';

/** Compiled worker modules: this file is dist/src/inference/worker-pool.js, they are dist/workers/*.js. */
const WORKERS_DIR = new URL('../../workers/', import.meta.url);
/** Threads stay warm (models loaded, WASM compiled) for as long as the server runs. */
const IDLE_TIMEOUT_MS = 24 * 3600 * 1000;

export interface WorkerPoolOptions {
  /** Module in workers/, without its extension, e.g. 'inference', 'tts', 'vad'. */
  worker: string;
  threads: number;
  /** Tasks waiting beyond the busy threads; a full queue rejects `run` at once. */
  maxQueue: number;
  workerData?: unknown;
  logger?: Pick<Logger, 'error'> | undefined;
  /** Log message for a worker's uncaught error (the pool replaces the thread). */
  errorMessage: string;
}

/** The one way this server starts a Piscina pool: fixed size, warm threads, errors logged. */
export function createWorkerPool(o: WorkerPoolOptions): Piscina {
  const pool = new Piscina({
    filename: new URL(`${o.worker}.js`, WORKERS_DIR).href,
    minThreads: o.threads,
    maxThreads: o.threads,
    idleTimeout: IDLE_TIMEOUT_MS,
    maxQueue: o.maxQueue,
    // An idle worker waits in its event loop for the next task, not in Atomics.wait: V8 serves
    // every Atomics.wait and Atomics.notify of the process under one lock, so a worker blocked in
    // that wait makes the main thread's wake-ups (one per task) contend with it and with the
    // pacing worker's clock (see Pacer.post). The task message wakes the worker's loop anyway.
    atomics: 'disabled',
    // Piscina's run- and wait-time histograms: two records per task on the main thread that
    // nothing reads (the inference pool keeps its own timings and utilisation).
    recordTiming: false,
    ...(o.workerData === undefined ? {} : { workerData: o.workerData }),
  });
  pool.on('error', (err: unknown) => o.logger?.error({ err }, o.errorMessage));
  return pool;
}
