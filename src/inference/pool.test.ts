import t from 'tap';
import pino from 'pino';
import { InferencePool } from './pool.js';
import { PcmRing } from '../audio/pcm-ring.js';
import { DEFAULT_MODEL_PATH } from '../config/config.js';

const pool = new InferencePool({ modelPath: DEFAULT_MODEL_PATH, workers: 1, logger: pino({ level: 'silent' }) });
await pool.start();
t.teardown(() => pool.close());

function ringWithAudio(samples: number): PcmRing {
  const ring = PcmRing.create(samples);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 7)), i * 2);
  ring.write(0, pcm);
  return ring;
}

t.test('many windows at once on one worker queue up; none is rejected', async (t) => {
  const sessions = 12;
  const results = await Promise.all(Array.from({ length: sessions }, (_, i) => {
    const ring = ringWithAudio(24_000);
    return pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: `s${i}`, turnId: 't', contextStart: 0, start: 0, end: 24_000, firstFrameIndex: 0, final: true, releaseTo: 0 });
  }));
  t.equal(results.length, sessions);
  t.ok(results.every((r) => r.frameCount === 30));
  t.equal(pool.failures, 0, 'no task failed or was rejected');
  t.equal(pool.neutralWindows, 0);
});

t.test('utilisation: the worker\'s time on windows over the pool\'s wall time since it started', async (t) => {
  const before = pool.utilization;
  const t0 = performance.now();
  const ring = ringWithAudio(24_000);
  // One worker kept busy back to back: most of this stretch's wall time is window time.
  let taskMs = 0;
  while (performance.now() - t0 < 300) {
    const r = await pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: 'u', turnId: 't', contextStart: 0, start: 0, end: 24_000, firstFrameIndex: 0, final: true, releaseTo: 0 });
    taskMs += r.taskMs;
  }
  const after = pool.utilization;
  t.ok(after > before, `it rises while the worker is busy (${before.toFixed(3)} → ${after.toFixed(3)})`);
  t.ok(after <= 1, 'never above 1');
  t.ok(taskMs > 0);
});

t.test('worker CPU is the growth of each thread\'s running total: close to the process\'s CPU while the main thread only waits', { skip: process.platform !== 'linux' && 'Linux /proc only' }, async (t) => {
  const ring = ringWithAudio(24_000);
  const task = { kind: 'window' as const, ring: ring.sab, sessionId: 's', turnId: 't', contextStart: 0, start: 9600, end: 21_600, firstFrameIndex: 12, final: false, releaseTo: 0 };
  await pool.runWindow(task); // the thread's baseline
  const cpu0 = pool.stats.workerCpuMs;
  const wall0 = pool.stats.workerWallMs;
  const proc0 = process.cpuUsage();
  // Two in flight: the worker is never idle, the main thread only hands over and collects.
  const until = performance.now() + 1500;
  const stream = async (): Promise<void> => {
    while (performance.now() < until) await pool.runWindow(task);
  };
  await Promise.all([stream(), stream()]);
  const procMs = (process.cpuUsage().user - proc0.user + process.cpuUsage().system - proc0.system) / 1000;
  const workerMs = pool.stats.workerCpuMs - cpu0;
  const taskWallMs = pool.stats.workerWallMs - wall0;
  // A per-window difference of readings (what this replaced) counted well under half of it.
  t.ok(workerMs > 0.6 * procMs, `worker threads ${workerMs.toFixed(0)} ms of the process's ${procMs.toFixed(0)} ms of CPU`);
  t.ok(workerMs <= procMs + 20, 'and not more than the whole process');
  t.ok(taskWallMs > 0, `task wall ${taskWallMs.toFixed(0)} ms`);
});
