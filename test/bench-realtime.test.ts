import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../bench/options.js';
import type { StepMeasurement } from '../bench/load-driver.js';
import { realtimeArm, realtimeRun, serverRealtimeSetting, summarizeRealtime } from '../bench/realtime-priority.js';
import { realtimeSection, renderMarkdown } from '../bench/report.js';
import type { BenchReport } from '../bench/report-types.js';

const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
const template = committed.capacity!.steps.find((s) => s.pass)!;

function step(status: string, loopP99: number, pacingP99: number, idleP99: number, pass = true): StepMeasurement {
  return {
    ...template, pass, idleLoopDelay: { p50Ms: 0.1, p99Ms: idleP99, maxMs: 9 },
    server: { ...template.server, realtime: status, eventLoopDelayP99Ms: loopP99, eventLoopDelayMaxMs: 7, pacingLatenessP99Ms: pacingP99, mainThreadUsPerFrame: 60 },
  };
}

t.test('real-time priority: each pair\'s ratio, then their median; medians per arm; the server\'s status per run', async (t) => {
  const pairs = [
    { off: realtimeRun('off', step('off', 6.0, 3.8, 4.0)), realtime: realtimeRun('auto', step('on', 0.6, 0.13, 4.4)) },
    { off: realtimeRun('off', step('off', 6.4, 4.0, 5.0)), realtime: realtimeRun('auto', step('on', 1.6, 0.2, 4.5)) },
    { off: realtimeRun('off', step('off', 5.0, 3.0, 4.0)), realtime: realtimeRun('auto', step('failed', 5.5, 3.3, 4.0, false)) },
  ];
  const s = summarizeRealtime(50, 'auto', pairs);
  t.equal(s.ratios.eventLoopDelayP99, 0.25, 'median of 0.1, 0.25 and 1.1');
  t.equal(s.medians.realtime.eventLoopDelayP99Ms, 1.6);
  t.equal(s.medians.off.eventLoopDelayP99Ms, 6.0);
  t.equal(s.medians.realtime.pacingLatenessP99Ms, 0.2);
  t.equal(s.realtimeOn, 2, 'one run could not set SCHED_RR');
  t.same(s.passed, { off: 3, realtime: 2 });

  const text = realtimeSection({ ...committed, realtime: s }).join('\n');
  t.match(text, /### Real-time priority \(REALTIME_PRIORITY auto against off\)/);
  t.match(text, /event-loop delay p99 \*\*1\.60 ms\*\* with real-time priority, 6\.00 ms without/);
  t.match(text, /loop delay p99 \*\*×0\.25\*\*/);
  t.match(text, /In 1 pair\(s\) the server could not set SCHED_RR/, 'a run that was not real-time is called out');
  t.match(text, /\| 3 \| auto \| failed \| \*\*fail\*\* \|/, 'its row shows the status and the failure');
  t.same(realtimeSection({ ...committed, realtime: undefined }), [], 'no section when it was not run');
  t.match(renderMarkdown({ ...committed, realtime: s }), /## 5\. Main thread[\s\S]*### Real-time priority[\s\S]*## 6\. Memory/, 'in the main-thread section');
});

t.test('the bench passes REALTIME_PRIORITY as the server reads it; the real-time arm is auto unless it names a priority', async (t) => {
  t.equal(serverRealtimeSetting({}), 'off', 'unset: the server default');
  t.equal(serverRealtimeSetting({ REALTIME_PRIORITY: '20' }), '20');
  t.equal(realtimeArm({}), 'auto');
  t.equal(realtimeArm({ REALTIME_PRIORITY: 'off' }), 'auto');
  t.equal(realtimeArm({ REALTIME_PRIORITY: '20' }), '20');
  t.throws(() => serverRealtimeSetting({ REALTIME_PRIORITY: 'high' }), /REALTIME_PRIORITY/, 'refused as the server refuses it');
});
