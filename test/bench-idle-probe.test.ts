import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdleProbe } from '../bench/load-driver.js';
import { renderMarkdown } from '../bench/report.js';
import { REPO_ROOT } from '../bench/options.js';
import type { BenchReport } from '../bench/report-types.js';

/** Polls the probe until `ok` holds for its last window (each window is 300 ms here). */
async function windowWhere(probe: IdleProbe, ok: (w: { p99Ms: number; maxMs: number }) => boolean) {
  for (;;) {
    const w = await probe.read();
    if (w && ok(w)) return w;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('the idle probe measures its own event loop in windows, as the server does', async (t) => {
  const probe = await IdleProbe.start(300);
  t.teardown(() => probe.stop());
  t.equal(await probe.read(), null, 'no complete window yet');
  const quiet = await windowWhere(probe, () => true);
  t.ok(quiet.p99Ms >= 0 && quiet.maxMs >= quiet.p99Ms, `a window: p99 ${quiet.p99Ms} ms, max ${quiet.maxMs} ms`);
  // A 60 ms stall of its loop shows in a later window as a delay of about that much.
  probe.block(60);
  const stalled = await windowWhere(probe, (w) => w.maxMs >= 40);
  t.ok(stalled.maxMs < 1000, `the stall, measured: max ${stalled.maxMs} ms`);
  await probe.stop();
  t.equal(await probe.read(), null, 'a stopped probe reads null, not a hang');
});

t.test('section 5 and the budget line show the idle process beside the server; older reports a dash', async (t) => {
  const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
  const p = committed.pacing!;
  const base = p.levels[0]!;
  const at50 = { ...base, sessions: 50, eventLoopDelayP99Ms: { median: 3.4, min: 3.1, max: 3.6, runs: 3 }, idleLoopDelayP99Ms: { median: 2.55, min: 2.4, max: 2.7, runs: 3 } };
  const section5 = (md: string) => md.slice(md.indexOf('## 5. Main thread'), md.indexOf('## 6. Memory'));
  const md = renderMarkdown({ ...committed, pacing: { ...p, levels: [at50] } });
  t.match(section5(md), /\| loop delay p99 ms \| loop delay max ms \| idle process loop delay p99 ms \|/);
  t.match(section5(md), /\| 50 \| 3\.40 \(3\.10–3\.60\) \| [^|]+ \| 2\.55 \(2\.40–2\.70\) \|/, 'the idle process beside the server');
  t.match(md, /event-loop delay p99 3\.40 ms \(< 2 ms: \*\*not met\*\*, section 5\)\. At the same moments an idle process on the same machine measured 2\.55 ms/);
  const { idleLoopDelayP99Ms: _dropped, ...older } = at50;
  const old = renderMarkdown({ ...committed, pacing: { ...p, levels: [older] } });
  t.match(section5(old), /\| 50 \| 3\.40 \(3\.10–3\.60\) \| [^|]+ \| – \|/, 'older reports: a dash');
  t.notMatch(old, /idle process on the same machine measured/, 'and no sentence');
  t.notMatch(md + old, /undefined|NaN/);
});
