import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../bench/options.js';
import { perTask, type StepMeasurement } from '../bench/load-driver.js';
import { pairedRatio, serverTaskWindows, summarize, taskWindowsRun, type TaskWindowsRun } from '../bench/task-windows.js';
import { renderMarkdown, taskWindowsSection } from '../bench/report.js';
import type { BenchReport } from '../bench/report-types.js';
import type { ServerStats } from '../bench/server-under-test.js';

const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
const template = committed.capacity!.steps.find((s) => s.pass)!;

function step(mainUs: number, processUs: number, perTaskWindows: number, pass = true): StepMeasurement {
  return { ...template, pass, server: { ...template.server, mainThreadUsPerFrame: mainUs, processUsPerFrame: processUs, mainThreadWakeupsPerS: 400, windowsPerTask: perTaskWindows, deadlineFills: 0 } };
}

t.test('windows per task between two /stats readings', async (t) => {
  const stats = (windows: number, tasks?: number) => ({ inference: { windows, tasks } }) as unknown as ServerStats;
  t.equal(perTask(stats(100, 80), stats(400, 180)), 3, '300 windows in 100 tasks');
  t.equal(perTask(stats(100), stats(400)), undefined, 'a server that does not count tasks');
  t.equal(perTask(stats(100, 80), stats(100, 80)), undefined, 'no task in between');
});

t.test('the ratio of each pair, then their median: one noisy pair does not decide it', async (t) => {
  const pairs = [
    { single: taskWindowsRun(1, step(40, 180, 1)), batched: taskWindowsRun(4, step(36, 160, 3.2)) },
    { single: taskWindowsRun(1, step(50, 200, 1)), batched: taskWindowsRun(4, step(45, 180, 3.4)) },
    { single: taskWindowsRun(1, step(30, 150, 1)), batched: taskWindowsRun(4, step(60, 150, 3.1, false)) },
  ];
  t.equal(pairedRatio(pairs, (r) => r.mainThreadUsPerFrame), 0.9, 'median of 0.9, 0.9 and 2');
  const s = summarize(128, 4, pairs);
  t.equal(s.ratios.mainThreadUsPerFrame, 0.9);
  t.equal(s.ratios.processUsPerFrame, 0.9, 'median of 0.889, 0.9 and 1');
  t.same(s.passed, { single: 3, batched: 2 });
  t.ok(Number.isNaN(pairedRatio([], (r: TaskWindowsRun) => r.mainThreadUsPerFrame)), 'no pair: no ratio');
  t.equal(serverTaskWindows({}), 4, 'the server default');
  t.equal(serverTaskWindows({ INFERENCE_TASK_WINDOWS: '1' }), 1);
  t.throws(() => serverTaskWindows({ INFERENCE_TASK_WINDOWS: 'x' }), /INFERENCE_TASK_WINDOWS/, 'not a count: refused, as the server refuses it');

  const md = taskWindowsSection({ ...committed, taskWindows: s });
  const text = md.join('\n');
  t.match(text, /### Windows per task \(INFERENCE_TASK_WINDOWS 4 against 1\)/);
  t.match(text, /main thread µs per frame \*\*×0\.90\*\*/);
  t.match(text, /runs passed 2 \/ 3 batched, 3 \/ 3 single/);
  t.equal(md.filter((l) => /^\| \d \| [14] \|/.test(l)).length, 6, 'one row per run');
  t.match(text, /\| 3 \| 4 \| \*\*fail\*\* \| 60\.0 \|/, 'a failing run is marked');
  t.same(taskWindowsSection({ ...committed, taskWindows: undefined }), [], 'no section when it was not run');
  t.match(renderMarkdown({ ...committed, taskWindows: s }), /### Windows per task/, 'in the capacity section of the report');
});
