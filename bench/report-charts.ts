import { FRAME_DURATION_MS } from '../src/audio/constants.js';
import type { BenchReport } from './report-types.js';
import { barChartSvg, lineChartSvg } from './svg-chart.js';

/** The report's charts: the capacity ramp, and inference throughput per pool size and window. */
export function capacityChart(r: BenchReport): string | null {
  const c = r.capacity;
  if (!c || c.steps.length === 0) return null;
  // One point per level: its median run by client lateness p99; hollow when the level failed.
  const steps = [...c.levels].sort((a, b) => a.sessions - b.sessions).map((level) => {
    const runs = c.steps.filter((s) => s.sessions === level.sessions).sort((a, b) => a.client.latenessMs.p99 - b.client.latenessMs.p99);
    return { ...runs[Math.floor((runs.length - 1) / 2)]!, pass: level.pass };
  });
  const pts = (f: (s: (typeof steps)[number]) => number) => steps.map((s) => ({ x: s.sessions, y: f(s), hollow: !s.pass }));
  return lineChartSvg({
    title: `Capacity ramp: ${c.sessions} sessions sustained (${r.machine.cores} cores)`,
    xLabel: 'concurrent speaking sessions (log scale)', yLabel: 'ms', xLog2: true,
    series: [
      { name: 'client lateness p99', points: pts((s) => s.client.latenessMs.p99) },
      { name: 'client jitter p99', points: pts((s) => s.client.jitterMs.p99) },
      { name: 'server pacing lateness p99', points: pts((s) => s.server.pacingLatenessP99Ms) },
      { name: 'server loop delay p99', points: pts((s) => s.server.eventLoopDelayP99Ms) },
      { name: 'main thread % of a core ÷ 2', points: pts((s) => (s.server.mainThreadCores * 100) / 2) },
    ],
    refLines: [{ y: FRAME_DURATION_MS, label: 'one frame (33.3 ms)' }],
    // Beyond three frames (the widget's jitter buffer) the exact value matters less than the failure.
    yCap: 3 * FRAME_DURATION_MS,
    note: 'hollow: level failed',
  });
}

export function inferenceChart(r: BenchReport): string | null {
  const s = r.inference;
  if (!s || s.cells.length === 0) return null;
  const model = s.models[0]!.name;
  const cells = s.cells.filter((c) => c.model === model);
  const windows = [...new Set(cells.map((c) => c.windowS))];
  const pools = [...new Set(cells.map((c) => c.poolSize))];
  return barChartSvg({
    title: `Inference: real-time streams the pool can feed (${model})`,
    xLabel: 'window length', yLabel: 'real-time streams (windows/s × window s)',
    groups: windows.map((w) => `${w} s`),
    series: pools.map((p) => ({ name: `pool of ${p}`, values: windows.map((w) => cells.find((c) => c.poolSize === p && c.windowS === w)?.realtimeStreams.median ?? Number.NaN) })),
  });
}
