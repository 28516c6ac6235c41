import type { BenchReport } from './report-types.js';
import type { RunSpread, Summary } from './quantiles.js';
import { BUDGET_SESSIONS, STREAMING_AGENT_SPEED, type ProfileLevel } from './pacing-profile.js';
import { STAGES, type TimeQuantiles, type WindowBreakdown } from './window-breakdown.js';
import { capacityText, type ArmAtLevel } from './capacity-variants.js';
import type { TaskWindowsRun } from './task-windows.js';
import type { RealtimeRun } from './realtime-priority.js';
import { batchingVerdict } from './batching.js';
import { FIRST_FRAME_LIMIT_MS } from './load-driver.js';

/** latest.md: the report an engineer reads to size hardware. Numbers only from the JSON. */
const n = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const sp = (s: RunSpread, d = 2) => (s.runs > 1 && Number.isFinite(s.min) ? `${n(s.median, d)} (${n(s.min, d)}–${n(s.max, d)})` : n(s.median, d));
const mb = (bytes: number) => n(bytes / 2 ** 20, 2);
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];
const pq = (s: Summary, d = 1) => `${n(s.p50, d)} / ${n(s.p95, d)}`;

function inference(r: BenchReport): string[] {
  const s = r.inference;
  if (!s) return [];
  const out = ['## 1. Inference real-time factor', '',
    `Real Piscina pool, \`workers/inference.js\` window tasks over a real \`PcmRing\`: ring read, 24→16 kHz, ONNX, 30 FPS frames, sync_frame encoding. Each window is fed with ${n(s.contextMs, 0)} ms of context before it (INFERENCE_CONTEXT_MS)${s.rightContextMs ? ` and the ${n(s.rightContextMs, 0)} ms after it (INFERENCE_RIGHT_CONTEXT_MS)` : ''}. ` +
    '*ms/window*: worker task time with one window in flight; *RTF* = that / window length; *windows/s*: 2 × pool size streams with one window in flight each (saturated); *real-time streams*: windows/s × window length, the sessions the pool alone could feed. Median of runs (min–max).', ''];
  for (const m of s.models) out.push(`- \`${m.name}\` (${m.role}): input \`${m.input}\`, output \`${m.output}\`, worker warm-up ${m.warmupMs} ms`);
  out.push('', ...head(['model', 'pool', 'window s', 'model input s', 'ms/window p50', 'ms/window p95', 'round trip p50 ms', 'RTF', 'windows/s', 'real-time streams']));
  for (const c of s.cells) {
    out.push(row([c.model, c.poolSize, c.windowS, n(c.modelInputS, 1), sp(c.taskMsP50), sp(c.taskMsP95), sp(c.roundTripMsP50), sp(c.rtf, 4), sp(c.windowsPerS, 0), sp(c.realtimeStreams, 0)]));
  }
  return [...out, '', ...batching(r)];
}

function batching(r: BenchReport): string[] {
  const b = r.batching;
  if (!b || b.length === 0) return [];
  const out = ['### Batching: several windows in one model call', '',
    'The model call alone (one ONNX session with the pool workers\' options, one intra-op thread) over B windows of the same length, each with its context. ' +
    '*ms/window* = call ms / B; *vs B = 1*: that over the single call\'s, same run (below 1: batching saves). *Saves of a window*: the model time saved per window at that B as a share of the whole worker time per window in the table above (pool 1, same window), which also reads the ring, resamples and encodes: those do not batch. ' +
    'A batch also delays its earliest window: it is back only when all B are done. Median of runs (min–max).', ''];
  for (const m of [...new Set(b.map((x) => x.model))]) {
    const fixed = b.find((x) => x.model === m && !x.batchAxis);
    if (fixed) out.push(`- \`${m}\`: input \`${fixed.inputShape}\`, a fixed batch of 1: single calls only`);
  }
  const batched = b.filter((x) => x.batchAxis);
  if (batched.length > 0) {
    out.push('', ...head(['model', 'window s', 'model input s', 'B', 'call ms', 'ms/window', 'vs B = 1', 'saves of a window']));
    for (const x of batched) {
      const single = x.rows[0]!.msPerWindow.median;
      for (const rw of x.rows) {
        const saves = x.workerMsPerWindow ? `${n(((single - rw.msPerWindow.median) / x.workerMsPerWindow) * 100, 1)} %` : '–';
        out.push(row([x.model, x.windowS, n(x.modelInputS, 1), rw.batch, sp(rw.callMs), sp(rw.msPerWindow), sp(rw.vsSingle), rw.batch === 1 ? '' : saves]));
      }
    }
  }
  out.push('', `**${batchingVerdict(b)}.** The server runs one window per model call.`);
  return [...out, ''];
}

function capacity(r: BenchReport): string[] {
  const c = r.capacity;
  if (!c) return r.taskWindows ? ['## 2. Capacity', '', ...taskWindowsSection(r)] : [];
  const out = ['## 2. Capacity', '',
    `**${c.sessions} concurrent speaking sessions** sustained in real time on ${c.cores} cores (${n(c.sessionsPerCore, 1)} per core; ${c.serverWorkers} inference worker(s)). ` +
    `Limited by: ${c.limitedBy}${c.firstFailure ? ` — first failing level ${c.firstFailure.sessions}: ${c.firstFailure.reasons.join('; ')}` : ''}.` +
    (c.firstFailure?.limit ? ` **What limited it: ${c.firstFailure.limit.detail}.**` : '') +
    (c.firstFailure?.serverErrors.length ? ` The server logged: ${c.firstFailure.serverErrors.map((e) => `\`${e}\``).join(', ')}.` : ''), '',
    'Each level: a fresh server process (`dist/src/index.js`, remote agent), a separate load process with the fake remote agent and N widget clients on 127.0.0.1, sessions speaking back to back at cloud-agent speed (audio faster than real time), the first turn of each session discarded as warm-up. ' +
    `A run passes when every turn is complete (all frames, no errors), no frame reached the pacer after its deadline (underruns), client lateness p99 ≤ 33.3 ms, the first frame of a turn p95 < ${FIRST_FRAME_LIMIT_MS} ms after the agent's first audio, turns do not lengthen, and the load generator itself is not saturated; a level passes when ${c.passRuns ?? 1} run(s) of it in a row pass (its first failing run fails it).`, '',
    `Levels tried: ${c.levels.map((l) => `${l.sessions} ${l.pass ? 'pass' : 'fail'}${l.runs > 1 ? ` (${l.passedRuns}/${l.runs} runs)` : ''}`).join(', ')}. Every run:`, '',
    ...head(['sessions', 'result', 'client lateness p99 ms', 'jitter p99 ms', 'turn drift p50 ms', 'server lateness p99 ms', 'underruns', 'loop delay p99 ms', 'main thread % core', 'main µs/frame', 'process µs/frame', 'RSS/session MB', 'generator loop p99 ms', 'machine cores busy'])];
  for (const m of [...c.steps].sort((a, b) => a.sessions - b.sessions)) {
    out.push(row([m.sessions, m.pass ? 'pass' : `**fail**: ${m.reasons.join('; ')}`, n(m.client.latenessMs.p99, 1), n(m.client.jitterMs.p99, 1), n(m.client.turnDriftMs.p50, 1),
      n(m.server.pacingLatenessP99Ms), m.server.underruns, n(m.server.eventLoopDelayP99Ms), n(m.server.mainThreadCores * 100, 0), n(m.server.mainThreadUsPerFrame, 1),
      n(m.server.processUsPerFrame, 1), mb(m.server.rssPerSessionBytes), n(m.client.generator.eventLoopDelayP99Ms, 1), n(m.hostCores ?? Number.NaN)]));
  }
  out.push('', '*Machine cores busy*: every process on the machine (`/proc/stat`) over the measured turns: the server, the load generator and anything else running.', '');
  if (c.windowTimes && c.windowTimes.length > 0) {
    out.push(...windowTable(`### Where a window's time goes (${c.scheduler ?? r.server.scheduler ?? '?'} scheduler, ${c.serverWorkers} worker(s))`, c.windowTimes.map((w) => ({ label: `${w.sessions} sessions (${w.role})`, windows: w.windows }))));
  }
  out.push(...schedulerAblation(r), ...taskWindowsSection(r), ...workerSweep(r));
  return out;
}

const na = 'n/a';
const ms = (q: TimeQuantiles | null | undefined) =>
  !q || q.count === 0 ? na : `${n(q.p50Ms)} / ${n(q.p95Ms)} / ${q.beyondMs !== null && q.p99Ms >= q.beyondMs ? '≥ ' : ''}${n(q.p99Ms)}`;
const ratioText = (v: number) => (Number.isFinite(v) ? `×${n(v)}` : na);

/**
 * "Where a window's time goes": one column per measured level. Quantiles come from the server's
 * histogram buckets (linear inside a bucket), over the measured turns only.
 */
export function windowTable(title: string, cols: Array<{ label: string; windows: WindowBreakdown | null | undefined }>): string[] {
  const out = [title, '',
    'From the server\'s `/metrics`, scraped when every session had finished its warm-up turn and after the last turn (differences: the measured turns only). ' +
    'Times are p50 / p95 / p99 in ms, interpolated inside histogram buckets (≥: beyond the last bucket). *Queue wait*: dispatch on the main thread → a worker starts the window; *round trip*: dispatch → result back on the main thread; *worker run*: the worker\'s wall time for the window; ' +
    '*worker CPU / wall*: the worker threads\' CPU time (the growth of their scheduler totals: windows and the pool\'s hand-offs between them) over their tasks\' wall time (well below 1: the threads waited for a core mid-window; above 1: the hand-offs cost CPU outside the tasks); *late*: windows whose result came back after their first frame was due, by the window\'s index in its turn; *pool busy*: `avatar_inference_pool_busy_ratio` (5 s window) polled during the turns, median / max.', '',
    ...head(['', ...cols.map((c) => c.label)])];
  const line = (name: string, f: (w: WindowBreakdown) => string) => out.push(row([name, ...cols.map((c) => (c.windows ? f(c.windows) : na))]));
  line('queue wait ms', (w) => ms(w.queueWait));
  line('round trip ms', (w) => ms(w.roundTrip));
  line('worker run ms', (w) => ms(w.workerRun));
  for (const st of STAGES) line(`… ${st} ms`, (w) => ms(w.stages[st]));
  line('worker CPU / wall', (w) => (w.workerCpuOverWall === null ? na : `${n(w.workerCpuOverWall)} (${n(w.workerCpuS ?? Number.NaN)} s / ${n(w.workerWallS ?? Number.NaN)} s)`));
  line('windows', (w) => (w.windows === null ? (w.workerRun ? String(w.workerRun.count) : na) : String(w.windows)));
  for (const i of ['0', '1', '2', '3+']) {
    line(`late, window ${i}`, (w) => {
      const r = w.byIndex.find((x) => x.window === i);
      if (!r || r.late === null) return na;
      return r.windows ? `${r.late} of ${r.windows} (${n((100 * r.late) / r.windows, 1)}%)` : String(r.late);
    });
  }
  line('pool busy, median / max', (w) => (w.poolBusyRatioMax === null ? na : `${n(w.poolBusyRatioMedian ?? Number.NaN)} / ${n(w.poolBusyRatioMax)}`));
  const missing = [...new Set(cols.flatMap((c) => c.windows?.missing ?? []))];
  if (missing.length) out.push('', `The server did not expose ${missing.map((m) => `\`${m}\``).join(', ')} (n/a above).`);
  return [...out, ''];
}

function schedulerAblation(r: BenchReport): string[] {
  const a = r.capacityScheduler;
  if (!a) return [];
  const lvl = a.comparisonSessions;
  const cap = (x: ArmAtLevel) => capacityText(x.capacity, x.oneLevel, lvl);
  const cell = (v: number | null, d = 1) => (v === null ? na : n(v, d));
  const workers = a.arms[0]?.workers ?? r.server.inferenceWorkers;
  const out = [`### Scheduler: deadline vs FIFO (INFERENCE_SCHEDULER, ${workers} worker(s))`, '',
    `The capacity section again with \`INFERENCE_SCHEDULER=fifo\` (a FIFO queue, one window in flight per session) and \`deadline\` (earliest deadline first, the next window of a turn pipelined), same run, same load. ` +
    `Per-level numbers are at ${lvl === null ? 'no level both arms ran' : `${lvl} sessions`} (the deadline arm's capacity), the median run there.` +
    (a.deadline.oneLevel || a.fifo.oneLevel ? ' Quick mode: one level per arm, so capacity reads "≥ level" (passed) or "< level" (failed).' : ''), '',
    ...head(['scheduler', 'capacity (sessions)', 'level result', 'client lateness p99 ms', 'server lateness p99 ms', 'queue wait p99 ms', 'underruns', 'late windows', 'pool busy max', 'limited by']),
    ...([['deadline', a.deadline], ['fifo', a.fifo]] as const).map(([name, x]) => row([name, cap(x), x.pass === null ? na : x.pass ? 'pass' : '**fail**', n(x.clientLatenessP99Ms, 1), n(x.pacingLatenessP99Ms, 2),
      cell(x.queueWaitP99Ms), Number.isFinite(x.underruns) ? x.underruns : na, x.lateWindows ?? na, cell(x.poolBusyRatioMax, 2), x.limit ?? '–'])),
    '', `Ratios: capacity deadline/fifo **${ratioText(a.ratios.capacity)}**; FIFO/deadline at ${lvl ?? '?'} sessions: client lateness p99 **${ratioText(a.ratios.clientLatenessP99)}**, server lateness p99 ${ratioText(a.ratios.pacingLatenessP99)}, ` +
    `queue wait p99 ${ratioText(a.ratios.queueWaitP99)}, underruns ${ratioText(a.ratios.underruns)} (${n(a.fifo.underruns, 0)} vs ${n(a.deadline.underruns, 0)}). Above 1: FIFO is worse. ` +
    'The deadline scheduler sends a turn\'s next window to the pool up to `INFERENCE_LOOKAHEAD_MS` before it is due, where it waits behind windows due sooner: its queue wait is longer by design. Late windows, underruns and lateness are what the viewer sees.', ''];
  if (lvl !== null) out.push(...windowTable(`#### Where a window's time goes at ${lvl} sessions, by scheduler`, [{ label: 'deadline', windows: a.deadline.windows }, { label: 'fifo', windows: a.fifo.windows }]));
  return out;
}

/** INFERENCE_TASK_WINDOWS against one window per task: paired runs at one level, ratios within pairs. */
export function taskWindowsSection(r: BenchReport): string[] {
  const a = r.taskWindows;
  if (!a || a.pairs.length === 0) return [];
  const runRow = (pair: number, x: TaskWindowsRun) => row([pair, x.taskWindows, x.pass ? 'pass' : '**fail**', n(x.mainThreadUsPerFrame, 1), n(x.processUsPerFrame, 1), n(x.mainThreadWakeupsPerS, 0),
    n(x.windowsPerTask, 2), x.underruns, Number.isFinite(x.deadlineFills) ? x.deadlineFills : na, n(x.clientLatenessP99Ms, 1), n(x.firstFrameP95Ms, 0)]);
  return [`### Windows per task (INFERENCE_TASK_WINDOWS ${a.batched} against 1)`, '',
    `Each window costs the main thread the same hand-offs whatever its length: the task posted to a worker, the worker's wake-up, the result's message and its callbacks. ` +
    `When windows wait for a worker, the deadline queue hands it up to INFERENCE_TASK_WINDOWS of them, earliest due first, in one task (each still its own model call); a window queued meanwhile that is due before the batch's last makes the worker stop after the window it is running, so no window waits longer for a worker than with one per task. ` +
    `${a.pairs.length} pair(s) of fresh-server runs at ${a.sessions} sessions (the capacity section's load, at its capacity or ${r.plan.taskWindows?.sessions ?? a.sessions} sessions if lower: an overloaded arm spends less per frame), the arms alternating; ratios are batched / single within each pair, then their median (below 1: batches cost less).`, '',
    ...head(['pair', 'INFERENCE_TASK_WINDOWS', 'result', 'main µs/frame', 'process µs/frame', 'main thread wake-ups/s', 'windows per task', 'underruns', 'neutral fills', 'client lateness p99 ms', 'first frame p95 ms']),
    ...a.pairs.flatMap((p, i) => [runRow(i + 1, p.single), runRow(i + 1, p.batched)]),
    '', `Ratios ${a.batched} / 1: main thread µs per frame **${ratioText(a.ratios.mainThreadUsPerFrame)}**, process µs per frame ${ratioText(a.ratios.processUsPerFrame)}, main thread wake-ups ${ratioText(a.ratios.mainThreadWakeupsPerS)}; runs passed ${a.passed.batched} / ${a.pairs.length} batched, ${a.passed.single} / ${a.pairs.length} single.`, ''];
}

function workerSweep(r: BenchReport): string[] {
  const w = r.capacityWorkers;
  if (!w || w.rows.length === 0) return [];
  return [`### Inference workers (INFERENCE_WORKERS, ${w.rows[0]!.scheduler} scheduler, ${w.cores} cores)`, '',
    'The capacity section with each pool size, to size INFERENCE_WORKERS by cores. *Sessions per worker* = capacity / workers. The load generator shares the cores, so these are conservative.' +
    (w.rows.some((x) => x.oneLevel) ? ' Quick mode: one level per pool size ("≥": passed, "<": failed).' : ''), '',
    ...head(['workers', 'capacity (sessions)', 'sessions per worker', 'sessions per core', 'limited by']),
    ...w.rows.map((x) => row([x.workers, `${capacityText(x.sessions, x.oneLevel, x.level)}${x.reused ? ' (main run)' : ''}`, x.oneLevel ? na : n(x.sessionsPerWorker, 1), x.oneLevel ? na : n(x.sessionsPerCore, 1), x.limit ?? (x.oneLevel ? '– (one level measured)' : x.limitedBy)])),
    ''];
}

function levelRows(levels: ProfileLevel[], label: (l: ProfileLevel) => string, cells: (l: ProfileLevel) => Array<string | number>): string[] {
  return levels.map((l) => row([label(l), ...cells(l)]));
}

/** The budgets at the level they name: pacing lateness and event-loop delay p99 < 2 ms at 50 sessions. */
const BUDGET_P99_MS = 2;
function budgetLine(levels: ProfileLevel[]): string[] {
  const l = levels.find((x) => x.sessions === BUDGET_SESSIONS);
  if (!l) return [];
  const verdict = (v: number) => (v < BUDGET_P99_MS ? 'met' : '**not met**');
  const idle = l.idleLoopDelayP99Ms && Number.isFinite(l.idleLoopDelayP99Ms.median)
    ? ` At the same moments an idle process on the same machine measured ${n(l.idleLoopDelayP99Ms.median)} ms: the machine's own floor under this load.`
    : '';
  return [`Budgets at ${BUDGET_SESSIONS} sessions (medians of runs): server pacing lateness p99 ${n(l.serverLatenessMs.p99.median)} ms (< ${BUDGET_P99_MS} ms: ${verdict(l.serverLatenessMs.p99.median)}); ` +
    `main-thread event-loop delay p99 ${n(l.eventLoopDelayP99Ms.median)} ms (< ${BUDGET_P99_MS} ms: ${verdict(l.eventLoopDelayP99Ms.median)}, section 5).${idle}`, ''];
}

function profiles(r: BenchReport): string[] {
  const p = r.pacing;
  if (!p) return [];
  const levels = p.levels;
  const all = [...levels, ...(p.realtimeAgent ? [p.realtimeAgent] : []), ...(p.streamingAgents ? [p.streamingAgents] : [])];
  const label = (l: ProfileLevel) => (l === p.realtimeAgent ? '1 (agent at 1× real time)' : l === p.streamingAgents ? `${l.sessions} (agents at ${STREAMING_AGENT_SPEED}× real time)` : String(l.sessions));
  const runs = r.plan.pacing.runs;
  return [
    '## 3. Pacing', '',
    `At 1, 10, ${BUDGET_SESSIONS} and capacity sessions, ${runs} run(s) each on fresh servers; per-frame statistics are medians over runs. *Server lateness*: frame handed to the main thread − its deadline (pacing worker, \`/stats\`, last 4096 frames). ` +
    '*Jitter*: |inter-arrival − 33.3 ms| at the clients. *Lateness*: arrival − the turn\'s ideal media clock. *Drift per turn*: how much longer a turn played than its audio (last frame\'s lateness); *frame-count drift*: frames received − audio length × 30 (0 ≤ x < 1: nothing lost or invented).', '',
    ...head(['sessions', 'runs on time', 'server lateness p50 / p99 / max ms', 'underruns', 'client jitter p50 / p99 / max ms', 'client lateness p99 ms', 'max gap ms', 'drift per turn p50 / max ms', 'frame-count drift min..max']),
    ...levelRows(all, label, (l) => [`${l.passedRuns}/${l.runs}${l.brokenRuns ? ` (**${l.brokenRuns} broken**)` : ''}`, `${sp(l.serverLatenessMs.p50)} / ${sp(l.serverLatenessMs.p99)} / ${sp(l.serverLatenessMs.max)}`, l.underruns,
      `${n(l.clientJitterMs.p50)} / ${n(l.clientJitterMs.p99)} / ${n(l.clientJitterMs.max)}`, n(l.clientLatenessMs.p99, 1), sp(l.maxGapMs, 1),
      `${n(l.turnDriftMs.p50, 1)} / ${n(l.turnDriftMs.max, 1)}`, `${n(l.frameCountDrift.min, 3)}..${n(l.frameCountDrift.max, 3)}`]),
    '',
    ...budgetLine(levels),
    '## 4. Latency', '',
    'Measured in the load process on one clock: the fake agent sends its first `audio_delta` → the client receives the first `sync_frame`; the client sends `interrupt` → it receives the server\'s `interrupt` / the last frame of the interrupted turn (0 when none came after). Pooled over all turns of all runs. ' +
    `In the plain rows every agent sends its whole answer at once and the turns of all sessions start within the same second (the worst case for a turn's first window); in the "${STREAMING_AGENT_SPEED}× real time" row the agents stream 100 ms chunks every ${100 / STREAMING_AGENT_SPEED} ms, as a fast cloud TTS stream does.`, '',
    ...head(['sessions', 'first audio → first frame p50 / p95 ms', 'turns', 'interrupt → ack p50 / p95 ms', 'interrupt → last frame p50 / p95 ms', 'frames after interrupt (max)']),
    ...levelRows(all, label, (l) => [pq(l.firstFrameLatencyMs), l.firstFrameLatencyMs.n, pq(l.interruptToAckMs), pq(l.interruptToLastFrameMs), l.framesAfterInterruptMax]),
    '',
    '## 5. Main thread', '',
    'Event-loop delay from `/stats` (the server\'s last 5 s window, read at the end of the measured turns; the monitor\'s timer resolution is subtracted, see src/metrics/loop-delay.ts). CPU per frame: the server main thread\'s utime+stime from `/proc/<pid>/task/<pid>/stat` (and the whole process from `/proc/<pid>/stat`) over the measured turns, divided by the frames sent meanwhile — it includes all main-thread work (agent sockets, sessions, sends), not only frames. *In the kernel*: the thread\'s stime alone (socket sends and reads, wake-ups; on 127.0.0.1 a send also runs the receiving side\'s TCP processing). *Wake-ups*: the thread\'s voluntary context switches per second (`/proc/<pid>/task/<pid>/status`), each its event loop going to sleep with nothing to do and being woken later — by a frame batch from the pacing worker, an inference result, a socket, a timer; on a VM each costs the thread tens of µs of CPU whatever the work it wakes for. ' +
    '*Idle process*: the same event-loop delay measured at the same time by a process that does nothing else (`bench/idle-probe.ts`): what the machine alone — timer wake-ups served late, cores held by other threads and processes, the load generator among them — does to any event loop; what the server measures above it is the server\'s own.', '',
    ...(r.capacity && Number.isFinite(r.capacity.mainThreadMarginalUsPerFrame)
      ? [`Across the capacity levels, main-thread CPU = **${n(r.capacity.mainThreadMarginalUsPerFrame, 1)} µs per frame sent** (marginal, least-squares slope against frames/s, every run) + ${n(r.capacity.mainThreadIdlePercent, 1)} % of a core at idle.${
        r.capacity.mainThreadMarginalPassingUsPerFrame !== undefined && Number.isFinite(r.capacity.mainThreadMarginalPassingUsPerFrame)
          ? ` Over the runs that passed only (the range the server is run in; the overloaded runs of failing levels spend less per frame): **${n(r.capacity.mainThreadMarginalPassingUsPerFrame, 1)} µs per frame**.`
          : ''}`, '']
      : []),
    ...head(['sessions', 'loop delay p99 ms', 'loop delay max ms', 'idle process loop delay p99 ms', 'main thread µs/frame', '… of which in the kernel', 'main thread wake-ups/s', 'process µs/frame', 'main thread % of a core']),
    ...levelRows(all, label, (l) => [sp(l.eventLoopDelayP99Ms), sp(l.eventLoopDelayMaxMs, 1), l.idleLoopDelayP99Ms ? sp(l.idleLoopDelayP99Ms) : '–', sp(l.mainThreadUsPerFrame, 1), l.mainThreadKernelUsPerFrame ? sp(l.mainThreadKernelUsPerFrame, 1) : '–', l.mainThreadWakeupsPerS && Number.isFinite(l.mainThreadWakeupsPerS.median) ? sp(l.mainThreadWakeupsPerS, 0) : '–', sp(l.processUsPerFrame, 1), sp({ ...l.mainThreadCores, median: l.mainThreadCores.median * 100, min: l.mainThreadCores.min * 100, max: l.mainThreadCores.max * 100 }, 0)]),
    '',
    ...realtimeSection(r),
    '## 6. Memory', '',
    `RSS growth per session = (peak RSS during the level − RSS of the idle fresh server) / sessions.${r.capacity ? ` Across all capacity levels, the slope of peak RSS over sessions is **${mb(r.capacity.rssPerSessionBytesSlope)} MB per session** (fixed costs removed).` : ''}`, '',
    ...head(['sessions', 'RSS per session MB']),
    ...levelRows(levels, label, (l) => [sp({ ...l.rssPerSessionBytes, median: l.rssPerSessionBytes.median / 2 ** 20, min: l.rssPerSessionBytes.min / 2 ** 20, max: l.rssPerSessionBytes.max / 2 ** 20 })]),
    '',
  ];
}

/** REALTIME_PRIORITY off against auto (or the server's setting): paired runs at the budgets' level, ratios within pairs. */
export function realtimeSection(r: BenchReport): string[] {
  const a = r.realtime;
  if (!a || a.pairs.length === 0) return [];
  const runRow = (pair: number, x: RealtimeRun) => row([pair, x.setting, x.status, x.pass ? 'pass' : '**fail**', n(x.eventLoopDelayP99Ms), n(x.eventLoopDelayMaxMs, 1), n(x.idleLoopDelayP99Ms),
    n(x.pacingLatenessP99Ms), x.underruns, n(x.clientLatenessP99Ms, 1), n(x.firstFrameP95Ms, 0), n(x.mainThreadUsPerFrame, 1), n(x.processUsPerFrame, 1)]);
  const notOn = a.realtimeOn < a.pairs.length ? ` **In ${a.pairs.length - a.realtimeOn} pair(s) the server could not set SCHED_RR (status "failed": not permitted on this host), so those pairs compare nothing.**` : '';
  return [`### Real-time priority (REALTIME_PRIORITY ${a.setting} against off)`, '',
    'The main thread and the pacing worker mostly sleep and wake for short work; on cores shared with the inference workers and the load generator, the kernel\'s fair scheduler can leave a waking thread waiting for a core until the running thread blocks or the next tick. ' +
    'With REALTIME_PRIORITY the two run SCHED_RR and preempt the fair-scheduled threads at once (src/server/realtime-priority.ts). ' +
    `${a.pairs.length} pair(s) of fresh-server runs at ${a.sessions} sessions, section 3's workload, the arms alternating; ratios are real-time / off within each pair, then their median (below 1: lower with real-time priority). The idle process column is the machine's floor measured beside each run: it is not real-time in either arm.${notOn}`, '',
    ...head(['pair', 'REALTIME_PRIORITY', 'server status', 'result', 'loop delay p99 ms', 'loop delay max ms', 'idle process p99 ms', 'pacing lateness p99 ms', 'underruns', 'client lateness p99 ms', 'first frame p95 ms', 'main µs/frame', 'process µs/frame']),
    ...a.pairs.flatMap((p, i) => [runRow(i + 1, p.off), runRow(i + 1, p.realtime)]),
    '', `Medians: event-loop delay p99 **${n(a.medians.realtime.eventLoopDelayP99Ms)} ms** with real-time priority, ${n(a.medians.off.eventLoopDelayP99Ms)} ms without; pacing lateness p99 **${n(a.medians.realtime.pacingLatenessP99Ms)}** / ${n(a.medians.off.pacingLatenessP99Ms)} ms. ` +
    `Ratios ${a.setting} / off: loop delay p99 **${ratioText(a.ratios.eventLoopDelayP99)}**, pacing lateness p99 **${ratioText(a.ratios.pacingLatenessP99)}**, client lateness p99 ${ratioText(a.ratios.clientLatenessP99)}, main thread µs per frame ${ratioText(a.ratios.mainThreadUsPerFrame)}, idle process ${ratioText(a.ratios.idleLoopDelayP99)}; runs passed ${a.passed.realtime} / ${a.pairs.length} real-time, ${a.passed.off} / ${a.pairs.length} off.`, ''];
}

function ablations(r: BenchReport): string[] {
  const a = r.ablations;
  const out = ['## 7. Ablations (same run)', ''];
  if (a.placement) {
    const p = a.placement;
    out.push(`### Inference on the main thread vs the pool (\`${p.model}\`, ${p.windowS} s windows, pool of ${p.poolSize})`, '',
      `Saturated throughput, then ${p.streams} streams asking for one window per ${p.windowS} s (real-time load) while the bench's main-thread event-loop delay is recorded. Same window tasks, same modules.`, '',
      ...head(['variant', 'windows/s (saturated)', 'loop delay p50 ms', 'loop delay p99 ms', 'loop delay max ms', 'windows on time', 'window latency p99 ms', 'failed windows']),
      ...(['mainThread', 'pool'] as const).map((k) => { const v = p[k]; return row([k === 'pool' ? 'pool (ours)' : 'main thread', sp(v.windowsPerS, 0), sp(v.eventLoopDelayP50Ms), sp(v.eventLoopDelayP99Ms), sp(v.eventLoopDelayMaxMs), sp(v.keptUp, 3), sp(v.windowLatencyP99Ms, 1), v.failedWindows ? `**${v.failedWindows}**` : 0]); }),
      '', `Ratios: throughput pool/main **×${n(p.throughputRatio)}**; event-loop delay p99 main/pool **×${n(p.eventLoopDelayP99Ratio)}**.`, '');
  }
  if (a.pacingTimer) {
    const t = a.pacingTimer;
    out.push(`### setInterval pacing vs the pacing worker`, '',
      `${t.sessions} sessions × ${t.framesPerSession} frames, lead ${t.leadFrames}, ${t.runs} run(s): lateness of each frame in the main thread's hand (where it would be sent) against the turn's absolute media clock, anchored on its first frame; *start delay*: frames handed to the pacer → first frame in hand (0 for the main-thread pacers, which start synchronously). *Busy*: the main thread runs 0.8 ms tasks with ~1 ms gaps meanwhile.`, '',
      ...head(['pacer', 'idle: lateness p50 / p99 / max ms', 'idle: end-of-turn drift p50 ms', 'idle: start delay p50 ms', 'busy: lateness p50 / p99 / max ms', 'busy: end-of-turn drift p50 ms', 'busy: start delay p50 ms']));
    for (const k of ['setInterval', 'mainDeadline', 'pacingWorker'] as const) {
      const i = t.idle[k];
      const b = t.busy[k];
      out.push(row([k === 'pacingWorker' ? 'pacing worker (ours)' : k === 'mainDeadline' ? 'setTimeout to absolute deadlines (main)' : 'setInterval 33.3 ms (main)',
        `${n(i.latenessMs.p50)} / ${n(i.latenessMs.p99)} / ${n(i.latenessMs.max)}`, n(i.endDriftMs.p50), n(i.startDelayMs.p50),
        `${n(b.latenessMs.p50)} / ${n(b.latenessMs.p99)} / ${n(b.latenessMs.max)}`, n(b.endDriftMs.p50), n(b.startDelayMs.p50)]));
    }
    out.push('', `Ratio of lateness p99, setInterval / pacing worker: **×${n(t.p99RatioIdle)}** idle, **×${n(t.p99RatioBusy)}** busy.`, '');
  }
  if (a.serialization) {
    const s = a.serialization;
    out.push('### JSON.stringify vs fast-json-stringify (sync_frame)', '',
      ...head(['serializer', 'µs per frame']), row(['JSON.stringify', sp(s.jsonStringifyUs)]), row(['fast-json-stringify (ours)', sp(s.fastJsonStringifyUs)]), '',
      `Frame ≈ ${s.frameBytes} bytes; outputs parse to the same value: ${s.outputsEquivalent ? 'yes' : '**NO**'}. Ratio **×${n(s.ratio)}**.`, '');
  }
  if (a.base64) {
    const b = a.base64;
    // The marginal main-thread cost of a frame (fit across levels) is the fair base; else a level's.
    const marginal = r.capacity?.mainThreadMarginalUsPerFrame ?? Number.NaN;
    const level = r.pacing?.levels.find((l) => l.sessions === 10) ?? r.pacing?.levels[0];
    const useMarginal = Number.isFinite(marginal) && marginal > 0;
    const mainUs = useMarginal ? marginal : level?.mainThreadUsPerFrame.median ?? Number.NaN;
    const baseText = useMarginal ? 'marginal, section 5' : `section 5, ${level?.sessions} sessions`;
    out.push('### Per-frame base64 on the main thread vs pre-encoded in the workers', '',
      ...head(['main-thread work per frame', 'µs per frame']),
      row(['base64 of the 1600 audio bytes only', sp(b.base64OnlyUs)]), row(['whole frame build (SyncFrameEncoder: weights, base64, JSON, bytes)', sp(b.fullFrameBuildUs)]),
      row(['pre-encoded in the workers (ours)', '0 — the main thread only sends bytes']), '',
      Number.isFinite(mainUs) ? `Against the server's measured main-thread CPU of ${n(mainUs, 1)} µs per frame sent (${baseText}), building frames on the main thread would add ×${n((mainUs + b.fullFrameBuildUs.median) / mainUs)} (base64 alone ×${n((mainUs + b.base64OnlyUs.median) / mainUs)}).` : '', '');
  }
  if (a.resampler) {
    out.push('### Resampler: ours vs wave-resampler (24 → 16 kHz)', '',
      'Cost per 0.7 s model input (a 0.2 s window + 0.5 s context). Gains from a fitted sine; SNR of a 300/1000/3000/6000 Hz mix against the exact 16 kHz signal (includes any time misalignment); alias: worst residue of 9 and 11 kHz tones (fold to 7 / 5 kHz). ' +
      'wave-resampler reads input position j·(N − 1)/M for output sample j instead of j·N/M, so its output drifts by up to one input sample (42 µs) over the signal: its low SNR against the exact signal is that time-scale error, not noise.', '',
      ...head(['resampler', 'ms per input', 'RTF', 'gain 1 kHz dB', 'gain 6 kHz dB', 'pass-band SNR dB', 'alias residue dB']),
      ...a.resampler.map((x) => row([x.name, sp(x.msPerModelInput, 3), n(x.rtf, 4), n(x.gain1kHzDb), n(x.gain6kHzDb), n(x.passbandSnrDb, 1), n(x.aliasWorstDb, 1)])), '');
  }
  return out;
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const lines = [
    `# Benchmark results (${r.plan.name})`, '',
    `${m.startedAt} · ${m.cpuModel} · ${m.cores} cores · ${m.memoryGiB} GiB · Node ${m.node} · commit ${m.gitCommit ?? '?'}${m.gitDirty ? ' (dirty)' : ''} · load average at start ${m.loadAverageAtStart.join(' / ')} · ${n(r.durationS, 0)} s`, '',
    `Server: \`${r.server.model}\`, ${r.server.inferenceWorkers} inference worker(s), ${r.server.scheduler ?? 'default'} inference scheduler, ${r.server.realtimePriority ? `REALTIME_PRIORITY ${r.server.realtimePriority}, ` : ''}lead ${r.server.leadFrames} frames, context ${r.server.contextMs} ms${r.server.rightContextMs ? ` before and ${r.server.rightContextMs} ms after each window` : ''}; load-test limits: ${Object.entries(r.server.env).map(([k, v]) => `${k}=${v}`).join(', ')}. ` +
    'The server, its workers and the load generator share this machine: on 2 cores, the load generator\'s CPU is CPU the server does not get, so capacity here is a conservative number.', '',
  ];
  if (r.plan.name === 'quick') lines.push('> Quick mode: one run per measurement and a coarse ramp. It proves the bench works; size hardware from a full run.', '');
  if (r.failures.length > 0) lines.push('## Failures', '', ...r.failures.map((f) => `- **${f.part}**: ${f.error.split('\n')[0]}`), '');
  lines.push(...inference(r), ...capacity(r), ...profiles(r), ...ablations(r));
  lines.push('Charts: `latest-capacity.svg`, `latest-inference.svg`. Raw numbers: `latest.json`.', '');
  return lines.join('\n');
}
