import t from 'tap';
import pino from 'pino';
import { existsSync } from 'node:fs';
import { InferencePool } from '../src/inference/pool.js';
import { PcmRing } from '../src/audio/pcm-ring.js';
import { ARKIT_COUNT, ARKIT_INDEX } from '../src/protocol/arkit.js';
import { FliteTts } from '../src/agents/offline/flite-tts.js';
import * as ort from 'onnxruntime-node';
import { createWorkerSession } from '../src/inference/ort-session.js';
import { SpeechTrack } from '../src/video/speech-track.js';
import { weightsAt25Fps } from '../src/video/video-clock.js';

// The shipped trained model through the real worker path: ring → 16 kHz → ONNX → 30 FPS weights.
const MODEL = 'pretrained_models/lipsync-small.onnx';
t.ok(existsSync(MODEL), `${MODEL} is shipped`);
const pool = new InferencePool({ modelPath: MODEL, workers: 1, logger: pino({ level: 'silent' }) });
const info = await pool.start();
const tts = new FliteTts({ voice: 'slt' });
t.teardown(async () => {
  await pool.close();
  await tts.close();
});

async function weightsFor(pcm: Buffer): Promise<Float32Array> {
  const samples = pcm.length / 2;
  const ring = PcmRing.create(samples);
  ring.write(0, pcm);
  const r = await pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: 's', turnId: 't', contextStart: 0, start: 0, end: samples, firstFrameIndex: 0, final: true, releaseTo: 0, output: 'weights' });
  t.equal(r.frameCount, Math.ceil(samples / 800), 'one frame per 1/30 s');
  return r.weights!;
}

const channel = (w: Float32Array, name: keyof typeof ARKIT_INDEX) => Array.from({ length: w.length / ARKIT_COUNT }, (_, f) => w[f * ARKIT_COUNT + ARKIT_INDEX[name]]!);

t.test('contract: one input, one output, 30 FPS, values in [0,1], deterministic', async (t) => {
  t.equal(info.inputName, 'audio');
  t.equal(info.outputName, 'blendshapes');
  const speech = (await tts.synthesize('Hello, how are you today?')).pcm;
  const a = await weightsFor(speech);
  const b = await weightsFor(speech);
  t.ok(a.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)), 'all 52 weights of every frame in [0,1]');
  t.same(Array.from(a), Array.from(b), 'same audio → same weights');
});

t.test('a dynamic batch axis: each row of a batched call equals that window run alone, bit for bit', async (t) => {
  const session = await createWorkerSession(MODEL);
  t.teardown(() => session.release());
  const meta = session.inputMetadata[0]!;
  t.ok(meta.isTensor && meta.shape.length === 2 && typeof meta.shape[0] === 'string', `input shape [${meta.isTensor ? meta.shape.join(', ') : ''}]`);
  const n = 14_400; // 0.5 s window + 0.4 s context at 16 kHz
  const rows = [0, 1, 2, 3].map((r) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * (0.02 + 0.007 * r)) * Math.sin(i * 0.002 * (r + 1))));
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const batch = new Float32Array(4 * n);
  rows.forEach((x, r) => batch.set(x, r * n));
  const y = (await session.run({ [input]: new ort.Tensor('float32', batch, [4, n]) }))[output]!;
  t.same(y.dims, [4, Math.floor((n * 30) / 16_000), ARKIT_COUNT]);
  const per = y.data.length / 4;
  for (const [r, x] of rows.entries()) {
    const alone = (await session.run({ [input]: new ort.Tensor('float32', x, [1, n]) }))[output]!.data as Float32Array;
    const mine = (y.data as Float32Array).subarray(r * per, (r + 1) * per);
    t.ok(alone.length === per && alone.every((v, i) => Object.is(v, mine[i])), `row ${r}`);
  }
});

t.test('a window with the default 400 ms of context before it and 100 ms after it gives every frame of one long run; without what follows, its last frames differ', async (t) => {
  const speech = (await tts.synthesize('Please remember to bring the purple umbrella and my old map tomorrow.')).pcm;
  const samples = speech.length / 2;
  const whole = await weightsFor(speech);
  const ring = PcmRing.create(samples);
  ring.write(0, speech);
  const context = 9_600; // INFERENCE_CONTEXT_MS default (400 ms) at 24 kHz
  const right = 2_400; // INFERENCE_RIGHT_CONTEXT_MS default (100 ms)
  let worst = 0, frames = 0, worstEdgeAlone = 0;
  for (let start = 12_000; start + 12_000 + right <= samples; start += 12_000) { // 500 ms windows from 0.5 s on
    const span = { kind: 'window', ring: ring.sab, sessionId: 's', turnId: 't', contextStart: start - context, start, end: start + 12_000, firstFrameIndex: start / 800, final: false, releaseTo: 0, output: 'weights' } as const;
    const w = (await pool.runWindow({ ...span, readEnd: start + 12_000 + right })).weights!;
    for (let f = 0; f < 15; f++, frames++) {
      for (let j = 0; j < ARKIT_COUNT; j++) worst = Math.max(worst, Math.abs(w[f * ARKIT_COUNT + j]! - whole[(start / 800 + f) * ARKIT_COUNT + j]!));
    }
    // The same window without the audio after it: its last 100 ms of frames see zero padding where the long run sees speech.
    const alone = (await pool.runWindow(span)).weights!;
    for (let f = 12; f < 15; f++) {
      for (let j = 0; j < ARKIT_COUNT; j++) worstEdgeAlone = Math.max(worstEdgeAlone, Math.abs(alone[f * ARKIT_COUNT + j]! - whole[(start / 800 + f) * ARKIT_COUNT + j]!));
    }
  }
  t.ok(frames >= 45, `${frames} frames compared, each window's last ones included`);
  t.ok(worst < 5e-5, `max |window − long run| ${worst.toExponential(1)} (< 5e-5: below the wire's 4 decimals)`);
  t.ok(worstEdgeAlone > 0.01, `without the right context a window's last frames differ from the long run by up to ${worstEdgeAlone.toFixed(3)}`);
});

t.test('video dialects: the speech track\'s windows, fed the 100 ms after them, give the 25 FPS frames of one long run', async (t) => {
  const tts16 = new FliteTts({ voice: 'slt', sampleRate: 16_000 });
  t.teardown(() => tts16.close());
  const raw = (await tts16.synthesize('Please remember to bring the purple umbrella and my old map tomorrow morning.')).pcm;
  const pcm = Int16Array.from({ length: raw.length >> 1 }, (_, i) => raw.readInt16LE(2 * i));
  const out = new Float32Array(ARKIT_COUNT);
  /** The speech through a SpeechTrack and the real pool, as a video worker runs it: its 25 FPS frames, and one long run of the same ring audio. */
  async function throughTrack(right: number, chunk: number /* 0: all at once */): Promise<{ frames: Float32Array[]; whole: Float32Array[]; windows: number }> {
    const track = new SpeechTrack(PcmRing.create(24_000 * 10), { rightContextSamples: right });
    let windows = 0;
    const pump = async () => {
      for (let req = track.nextWindow(); req; req = track.nextWindow()) {
        const r = await pool.runWindow({ kind: 'window', ring: track.ring.sab, sessionId: `v${right}-${chunk}`, turnId: 'video', output: 'weights', ...req });
        track.ring.release(req.releaseTo);
        track.onWeights(req.id, r.weights!, r.frameCount);
        windows++;
      }
    };
    if (chunk === 0) track.append(pcm); // frame-stream: the whole answer, then its end, before any window
    for (let at = 0; chunk > 0 && at < pcm.length; at += chunk) {
      track.append(pcm.subarray(at, at + chunk));
      await pump(); // MuseTalk: windows leave as soon as their audio is in
    }
    track.end();
    await pump();
    const frames: Float32Array[] = [];
    while (track.take(out)) frames.push(Float32Array.from(out));
    const len24 = Math.ceil((pcm.length * 3) / 2); // the ring (10 s) still holds all of it
    const all = await pool.runWindow({ kind: 'window', ring: track.ring.sab, sessionId: 'whole', turnId: 'w', contextStart: 0, start: 0, end: len24, firstFrameIndex: 0, final: true, releaseTo: 0, output: 'weights' });
    const whole = frames.map((_, q) => {
      weightsAt25Fps(all.weights!, all.frameCount, q, out);
      return Float32Array.from(out);
    });
    return { frames, whole, windows };
  }
  const worst = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((f, q) => Math.max(...f.map((v, j) => Math.abs(v - b[q]![j]!)))));
  const total = (a: Float32Array[], b: Float32Array[]) => a.reduce((s, f, q) => s + f.reduce((u, v, j) => u + Math.abs(v - b[q]![j]!), 0), 0);
  // Frame-stream: the whole answer at once, 1 s windows.
  const fs = await throughTrack(2400, 0);
  t.ok(fs.windows >= 3 && fs.frames.length === Math.ceil(pcm.length / 640), `${fs.windows} windows, ${fs.frames.length} frames (one per 40 ms)`);
  t.ok(worst(fs.frames, fs.whole) < 5e-5, `frame-stream with right context: max |frame − long run| ${worst(fs.frames, fs.whole).toExponential(1)}`);
  const fsAlone = await throughTrack(0, 0);
  t.ok(worst(fsAlone.frames, fsAlone.whole) > 0.01, `without it, frames before each window end differ by up to ${worst(fsAlone.frames, fsAlone.whole).toFixed(3)}`);
  // MuseTalk: speech arrives in 40 ms chunks and every window leaves as soon as it can, so it gets only what is in by then.
  const mt = await throughTrack(2400, 640);
  const mtAlone = await throughTrack(0, 640);
  t.equal(mt.windows, mtAlone.windows, 'the same windows: right context never holds one back');
  t.ok(total(mt.frames, mt.whole) < total(mtAlone.frames, mtAlone.whole), `streamed: total |frame − long run| ${total(mt.frames, mt.whole).toFixed(2)} with what had arrived after each window, ${total(mtAlone.frames, mtAlone.whole).toFixed(2)} without`);
});

t.test('silence in → closed mouth out', async (t) => {
  const w = await weightsFor(Buffer.alloc(24_000 * 2));
  const jaw = channel(w, 'jawOpen');
  t.ok(Math.max(...jaw) < 0.05, `jawOpen max ${Math.max(...jaw).toFixed(3)} in silence`);
});

t.test('a vowel-rich clip in → the jaw moves, and closes for the bilabials', async (t) => {
  const speech = (await tts.synthesize('Oh, I owe you a yo-yo. Mama made a map.')).pcm;
  const w = await weightsFor(speech);
  const jaw = channel(w, 'jawOpen');
  const mean = jaw.reduce((a, b) => a + b, 0) / jaw.length;
  const sd = Math.sqrt(jaw.reduce((a, b) => a + (b - mean) ** 2, 0) / jaw.length);
  t.ok(Math.max(...jaw) > 0.3, `jawOpen opens (max ${Math.max(...jaw).toFixed(2)})`);
  t.ok(sd > 0.05, `and moves (sd ${sd.toFixed(3)})`);
  const close = channel(w, 'mouthClose').map((c, i) => c + channel(w, 'mouthPressLeft')[i]!);
  t.ok(Math.max(...close) > 0.15, `lips press/close somewhere in "mama made a map" (max ${Math.max(...close).toFixed(2)})`);
});
