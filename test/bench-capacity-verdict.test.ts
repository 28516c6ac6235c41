import t from 'tap';
import { levelVerdict } from '../bench/capacity.js';
import { FIRST_FRAME_LIMIT_MS, judge } from '../bench/load-driver.js';
import { FULL_PLAN, QUICK_PLAN } from '../bench/options.js';
import { summarize } from '../bench/quantiles.js';
import type { LoadStepResult } from '../bench/load-protocol.js';
import type { ServerSide } from '../bench/load-driver.js';

t.test('a level passes only when every one of its runs passes (3 of 3 in the full bench)', async (t) => {
  t.equal(FULL_PLAN.capacity.passRuns, 3, 'the issue\'s 3 of 3');
  t.equal(QUICK_PLAN.capacity.passRuns, 1);
  const script = (...passes: boolean[]) => {
    let i = 0;
    const runOnce = async () => ({ pass: passes[i]!, run: i++ });
    return { runOnce, runs: () => i };
  };
  const all = script(true, true, true, true);
  t.same(await levelVerdict(all.runOnce, 3), { pass: true, run: 0 }, 'three passes: the level passes');
  t.equal(all.runs(), 3, 'and no fourth run');
  const third = script(true, true, false);
  t.same(await levelVerdict(third.runOnce, 3), { pass: false, run: 2 }, 'a failing third run fails the level');
  const first = script(false, true, true);
  t.same(await levelVerdict(first.runOnce, 3), { pass: false, run: 0 }, 'a failing first run fails it at once');
  t.equal(first.runs(), 1);
  t.same(await levelVerdict(script(true).runOnce, 0), { pass: true, run: 0 }, 'at least one run');
});

t.test('a run fails when the first frame p95 is 100 ms or more after the agent\'s first audio', async (t) => {
  const clean = summarize([1, 2, 3]);
  const client = (firstFrame: number[]): LoadStepResult => ({
    sessions: 2, connected: 2, turnsMeasured: 20, turnsComplete: 20, turnsBroken: 0, errors: [], framesReceived: 1200,
    firstFrameLatencyMs: firstFrame, jitterMs: clean, latenessMs: clean, turnDriftMs: clean, frameCountDrift: summarize([0.5]),
    maxGapMs: 40, interruptToLastFrameMs: [], interruptToAckMs: [], framesAfterInterrupt: [],
    generator: { cpuMs: 100, wallMs: 10_000, eventLoopDelayP99Ms: 2, eventLoopDelayMaxMs: 5 },
  });
  const server = { underruns: 0, inferenceFailures: 0 } as ServerSide;
  const fast = Array.from({ length: 20 }, (_, i) => 10 + i);
  t.same(judge(2, client(fast), server), { pass: true, broken: false, generatorSaturated: false, reasons: [] });
  // 2 of 20 turns slow: the p95 (19th of 20) is the first slow one.
  const slow = [...fast.slice(0, 18), FIRST_FRAME_LIMIT_MS, 400];
  const v = judge(2, client(slow), server);
  t.equal(v.pass, false);
  t.same(v.reasons, [`first frame p95 ${FIRST_FRAME_LIMIT_MS} ms ≥ ${FIRST_FRAME_LIMIT_MS} ms after the agent's first audio`]);
  t.equal(judge(2, client([...fast.slice(0, 19), 400]), server).pass, true, 'one slow turn in 20 is above the p95');
});
