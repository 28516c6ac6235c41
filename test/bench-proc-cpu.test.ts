import t from 'tap';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { cpuDelta, sampleCpu } from '../bench/proc-cpu.js';
import { renderMarkdown } from '../bench/report.js';
import { REPO_ROOT } from '../bench/options.js';
import { join } from 'node:path';
import type { BenchReport } from '../bench/report-types.js';

t.test('main-thread CPU is split into user and kernel time', async (t) => {
  // Each phase runs until this thread has used 300 ms of CPU (not of wall time: CI shares its cores).
  const burn = (work: () => void) => {
    const from = sampleCpu(process.pid);
    for (let to = from; to.mainThreadMs - from.mainThreadMs < 300; to = sampleCpu(process.pid)) {
      const end = performance.now() + 10;
      while (performance.now() < end) work();
    }
    return cpuDelta(from, sampleCpu(process.pid));
  };
  const a = sampleCpu(process.pid);
  t.ok(a.mainThreadKernelMs >= 0 && a.mainThreadKernelMs <= a.mainThreadMs, 'kernel time is part of the thread\'s time');
  let x = 0;
  const user = burn(() => {
    for (let i = 0; i < 1000; i++) x += Math.sqrt(x + i);
  });
  t.ok(user.mainThreadKernelMs < user.mainThreadMs / 2, `arithmetic: mostly outside the kernel (${user.mainThreadKernelMs} of ${user.mainThreadMs} ms)`);
  // Syscalls: 1-byte writes to /dev/null.
  const fd = openSync('/dev/null', 'w');
  const buf = Buffer.alloc(1);
  const sys = burn(() => {
    for (let i = 0; i < 100; i++) writeSync(fd, buf);
  });
  closeSync(fd);
  t.ok(sys.mainThreadKernelMs > user.mainThreadKernelMs, `syscalls add kernel time (${sys.mainThreadKernelMs} vs ${user.mainThreadKernelMs} ms of ${sys.mainThreadMs})`);
});

t.test('main-thread wake-ups: each sleep of the thread counts, busy work does not', async (t) => {
  // 50 sleeps of 2 ms in a futex (Atomics.wait always blocks for its timeout; a timer does not
  // when the thread reaches its poll after the timer is due): at least 50 wake-ups.
  const a = sampleCpu(process.pid);
  t.ok(Number.isInteger(a.mainThreadSleeps) && a.mainThreadSleeps >= 0, `a count (${a.mainThreadSleeps})`);
  const word = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 50; i++) Atomics.wait(word, 0, 0, 2);
  const after = sampleCpu(process.pid);
  t.ok(after.mainThreadSleeps - a.mainThreadSleeps >= 50, `50 sleeps: ${after.mainThreadSleeps - a.mainThreadSleeps} wake-ups`);
  // The rate is that count over the wall time between the samples (compared rounded: count × 1000 /
  // wallMs × wallMs / 1000 need not give the count back exactly in floating point; CI read 49.99…).
  const slept = cpuDelta(a, after);
  t.equal(Math.round(slept.mainThreadWakeupsPerS * slept.wallMs / 1000), after.mainThreadSleeps - a.mainThreadSleeps, `per second: ${slept.mainThreadWakeupsPerS.toFixed(0)}`);
  // 100 ms of busy work without sleeping: hardly any (preemption is not voluntary; V8 may still
  // wait a moment on a lock its helper threads hold).
  const b = sampleCpu(process.pid);
  const end = performance.now() + 100;
  while (performance.now() < end);
  const busy = sampleCpu(process.pid);
  t.ok(busy.mainThreadSleeps - b.mainThreadSleeps < 25, `busy work: ${busy.mainThreadSleeps - b.mainThreadSleeps} wake-ups`);
});

t.test('section 5 shows the kernel share and the wake-ups where the report has them, dashes in older reports', async (t) => {
  const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
  const p = committed.pacing!;
  const base = p.levels[0]!;
  const withKernel = { ...base, mainThreadKernelUsPerFrame: { median: 12.34, min: 12.34, max: 12.34, runs: 1 }, mainThreadWakeupsPerS: { median: 481.4, min: 470.2, max: 490.9, runs: 3 } };
  const { mainThreadKernelUsPerFrame: _dropped, mainThreadWakeupsPerS: _dropped2, ...older } = { ...base, mainThreadKernelUsPerFrame: undefined, mainThreadWakeupsPerS: undefined };
  const section5 = (md: string) => md.slice(md.indexOf('## 5. Main thread'), md.indexOf('## 6. Memory'));
  const md = section5(renderMarkdown({ ...committed, pacing: { ...p, levels: [withKernel] } }));
  t.match(md, /\| main thread µs\/frame \| … of which in the kernel \| main thread wake-ups\/s \|/);
  t.match(md, /\| 12\.3 \| 481 \(470–491\) \|/, 'the kernel µs per frame, then wake-ups per second');
  const old = section5(renderMarkdown({ ...committed, pacing: { ...p, levels: [older] } }));
  t.match(old, /\| – \| – \|/, 'older reports: dashes, no invented number');
  t.notMatch(md + old, /undefined|NaN/);
});
