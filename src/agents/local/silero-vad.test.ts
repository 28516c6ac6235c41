import t from 'tap';
import { existsSync } from 'node:fs';
import { FliteTts } from '../offline/flite-tts.js';
import { SileroVad, defaultVadModelPath } from './silero-vad.js';
import { SpeechSegmenter } from './speech-segmenter.js';
import { VAD_FRAME_MS, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE } from './vad-protocol.js';

// The real Silero v5 model from @ricky0123/vad-web in a real worker, on real (flite) speech.
const tts = new FliteTts({ sampleRate: VAD_SAMPLE_RATE });
const vad = new SileroVad();
t.teardown(async () => {
  await Promise.all([tts.close(), vad.close()]);
});

const spoken = await tts.synthesize('Good morning. Could you tell me where the tickets are sold?');
const speech = new Int16Array(spoken.pcm.buffer, spoken.pcm.byteOffset, spoken.pcm.length / 2);
const LEAD = VAD_SAMPLE_RATE; // 1 s of silence before, 1.5 s after
const audio = new Int16Array(LEAD + speech.length + VAD_SAMPLE_RATE * 1.5);
audio.set(speech, LEAD);
let onset = -1;
let offset = -1;
for (let i = 0; i < speech.length; i++) {
  if (Math.abs(speech[i]!) > 300) {
    if (onset < 0) onset = LEAD + i;
    offset = LEAD + i;
  }
}

async function probabilities(pcm: Int16Array, chunkSamples: number): Promise<number[]> {
  const probs: number[] = [];
  const stream = vad.stream({
    onProbabilities: (p, first) => {
      t.equal(first, probs.length, 'in order, no gaps');
      probs.push(...p);
    },
    onError: (err) => t.fail(err.message),
  });
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  for (let i = 0; i < bytes.length; i += chunkSamples * 2) stream.push(bytes.subarray(i, i + chunkSamples * 2));
  await stream.drained();
  stream.close();
  return probs;
}

t.test('the model ships in the npm package', async (t) => {
  t.ok(existsSync(defaultVadModelPath()), defaultVadModelPath());
  t.match(defaultVadModelPath(), /@ricky0123\/vad-web\/dist\/silero_vad_v5\.onnx$/);
});

t.test('speech is found where it is, silence is not speech', async (t) => {
  const probs = await probabilities(audio, 1600);
  t.equal(probs.length, Math.floor(audio.length / VAD_FRAME_SAMPLES));
  const frameOf = (sample: number): number => Math.floor(sample / VAD_FRAME_SAMPLES);
  t.ok(Math.max(...probs.slice(0, frameOf(onset) - 2)) < 0.2, 'leading silence');
  t.ok(Math.max(...probs.slice(frameOf(offset) + 8)) < 0.2, 'trailing silence');
  const inside = probs.slice(frameOf(onset) + 3, frameOf(offset) - 3);
  t.ok(inside.filter((p) => p > 0.5).length / inside.length > 0.8, 'mostly speech inside');

  const seg = new SpeechSegmenter({
    threshold: 0.5, negativeThreshold: 0.35, minSilenceMs: 500, minSpeechMs: 200, speechPadMs: 0, maxSpeechMs: 30_000,
    frameSamples: VAD_FRAME_SAMPLES, sampleRate: VAD_SAMPLE_RATE,
  });
  const events = seg.push(probs);
  t.same(events.map((e) => e.type), ['speechStart', 'speechEnd'], 'one utterance (the pause between sentences is shorter than min silence)');
  const ms = (samples: number): number => (samples / VAD_SAMPLE_RATE) * 1000;
  const start = ms(events[0]!.startSample);
  const end = events[1]!.type === 'speechEnd' ? ms(events[1]!.endSample) : NaN;
  t.ok(Math.abs(start - ms(onset)) <= 2 * VAD_FRAME_MS + 10, `start ${Math.round(start)} ms, audible from ${Math.round(ms(onset))} ms`);
  t.ok(Math.abs(end - ms(offset)) <= 4 * VAD_FRAME_MS, `end ${Math.round(end)} ms, audible until ${Math.round(ms(offset))} ms`);
});

t.test('per-stream state: chunk sizes and concurrent streams do not change the result', async (t) => {
  const [a, b, c] = await Promise.all([probabilities(audio, 512), probabilities(audio, 1000), probabilities(audio.subarray(0, LEAD + 8000), 4800)]);
  t.same(b, a, 'odd chunk sizes: identical probabilities');
  t.same(c, a.slice(0, c.length), 'a third stream interleaved on the same pool: identical');
});
