/**
 * The load generator: a separate process (forked by the bench with an IPC channel) that runs the
 * fake remote agent (test/helpers/fake-remote-agent.ts, our remote-agent protocol) and N widget
 * clients over real sockets on 127.0.0.1. The agent and the clients share this process's clock,
 * so "agent's first audio → first frame at the client" is measured without clock skew.
 */
import { LoopDelayMonitor } from '../src/metrics/loop-delay.js';
import { FRAME_DURATION_MS, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../src/audio/constants.js';
import { FakeRemoteAgent, syntheticSpeech } from '../test/helpers/fake-remote-agent.js';
import type { FromLoadClient, LoadStep, LoadStepResult, ToLoadClient } from './load-protocol.js';
import { LoadSession, frameLateness } from './load-session.js';
import { summarize } from './quantiles.js';

/** Odd extra samples so the last frame of a turn needs padding, as in real speech. */
const TAIL_SAMPLES = 137;
const AGENT_CHUNK_BYTES = 4800; // 100 ms at 24 kHz, like the widget and most agents

function send(msg: FromLoadClient): void {
  process.send!(msg);
}

const agent = await FakeRemoteAgent.start();
let sessions: LoadSession[] = [];
let audio: Buffer[] = [];

agent.onText = (up, text) => {
  const [s, t] = text.split(':').map(Number) as [number, number];
  const session = sessions[s];
  const turn = session?.turns[t];
  if (!session || !turn) return;
  const pcm = audio[s % audio.length]!;
  const speed = currentStep?.agentSpeed ?? 0;
  // speak() sends response_start and the first audio_delta synchronously, before its first await.
  turn.agentFirstAudioAt = performance.now();
  void agent.speak(up, pcm, { chunkBytes: AGENT_CHUNK_BYTES, chunkIntervalMs: speed > 0 ? 100 / speed : 0 });
};

let currentStep: LoadStep | null = null;

async function runStep(step: LoadStep): Promise<LoadStepResult> {
  currentStep = step;
  const samples = Math.round(step.turnAudioS * OUTPUT_SAMPLE_RATE) + TAIL_SAMPLES;
  audio = Array.from({ length: 4 }, (_, i) => syntheticSpeech(samples / OUTPUT_SAMPLE_RATE, { f0: 110 + 30 * i, seed: 3 + i }).subarray(0, samples * 2));
  sessions = Array.from({ length: step.sessions }, (_, i) => new LoadSession(i, step, samples));
  const delay = new LoopDelayMonitor(5);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const deadline = wall0 + step.timeoutMs;
  let warm = 0;
  const onWarm = () => {
    if (++warm === sessions.length) send({ op: 'warm' });
  };
  const errors: string[] = [];
  await Promise.all(sessions.map(async (s, i) => {
    await new Promise((r) => setTimeout(r, (i / step.sessions) * step.staggerMs));
    try {
      await s.connect();
    } catch (err) {
      errors.push(`connect: ${(err as Error).message}`);
      onWarm();
      return;
    }
    await s.run(deadline, onWarm);
  }));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const loop = delay.snapshot();
  delay.stop();
  await Promise.all(sessions.map((s) => s.close()));
  return collect(step, errors, { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, eventLoopDelayP99Ms: loop.p99Ms, eventLoopDelayMaxMs: loop.maxMs });
}

function collect(step: LoadStep, errors: string[], generator: LoadStepResult['generator']): LoadStepResult {
  const lateness: number[] = [];
  const jitter: number[] = [];
  const drift: number[] = [];
  const countDrift: number[] = [];
  const firstFrame: number[] = [];
  const interruptToLast: number[] = [];
  const interruptToAck: number[] = [];
  const afterInterrupt: number[] = [];
  let maxGapMs = 0;
  let measured = 0;
  let complete = 0;
  let broken = 0;
  let frames = 0;
  for (const s of sessions) {
    for (const e of s.errors) errors.push(`session ${s.index}: ${e}`);
    for (const t of s.turns) {
      frames += t.arrivals.length;
      if (t.broken) {
        broken++;
        errors.push(`session ${s.index} turn ${t.turnNo}: ${t.broken}`);
      }
      if (!t.measured) continue;
      measured++;
      if (t.broken) continue;
      if (t.arrivals.length > 0) firstFrame.push(t.arrivals[0]! - t.agentFirstAudioAt);
      // Frames after an interrupt are not paced media any more: only those before it count.
      const paced = t.interruptAt === null ? t.arrivals : t.arrivals.filter((at) => at <= t.interruptAt!);
      const late = frameLateness(paced, step.leadFrames);
      lateness.push(...late);
      for (let k = step.leadFrames + 1; k < paced.length; k++) {
        const gap = paced[k]! - paced[k - 1]!;
        jitter.push(Math.abs(gap - FRAME_DURATION_MS));
        maxGapMs = Math.max(maxGapMs, gap);
      }
      if (t.interruptAt === null) {
        complete++;
        drift.push(late[late.length - 1] ?? Number.NaN);
        countDrift.push(t.arrivals.length - t.audioSamples / SAMPLES_PER_FRAME);
        if (t.arrivals.length !== Math.ceil(t.audioSamples / SAMPLES_PER_FRAME)) errors.push(`session ${s.index} turn ${t.turnNo}: ${t.arrivals.length} frames for ${t.audioSamples} samples`);
      } else {
        complete++;
        interruptToAck.push((t.ackAt ?? Number.NaN) - t.interruptAt);
        interruptToLast.push(t.framesAfterInterrupt > 0 ? t.lastFrameAt - t.interruptAt : 0);
        afterInterrupt.push(t.framesAfterInterrupt);
      }
    }
  }
  return {
    sessions: step.sessions, connected: sessions.filter((s) => s.turns.length > 0).length, turnsMeasured: measured, turnsComplete: complete,
    turnsBroken: broken, errors: errors.slice(0, 20), framesReceived: frames, firstFrameLatencyMs: firstFrame,
    jitterMs: summarize(jitter), latenessMs: summarize(lateness), turnDriftMs: summarize(drift), frameCountDrift: summarize(countDrift),
    maxGapMs, interruptToLastFrameMs: interruptToLast, interruptToAckMs: interruptToAck, framesAfterInterrupt: afterInterrupt, generator,
  };
}

process.on('message', (raw) => {
  const msg = raw as ToLoadClient;
  if (msg.op === 'exit') {
    void agent.close().finally(() => process.exit(0));
    return;
  }
  runStep(msg.step).then(
    (result) => send({ op: 'result', result }),
    (err: unknown) => send({ op: 'failed', message: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ op: 'ready', agentUrl: agent.url });
