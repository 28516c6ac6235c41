/**
 * Video worker (one thread per video session): speech → inference windows (run by the main
 * thread's ONNX pool) → 25 FPS blendshape frames → rendered avatar → JPEG messages
 * (frame-stream dialect) or H.264 access units from a persistent ffmpeg (MuseTalk dialect).
 * The main thread only sends the finished bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PcmRing } from '../src/audio/pcm-ring.js';
import { resamplePcm16 } from '../src/audio/resampler.js';
import { decodeClientAudio, type ClientAudioFormat } from '../src/video/client-audio.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import { AvatarRenderer } from '../src/video/avatar-renderer.js';
import { SpeechTrack } from '../src/video/speech-track.js';
import { H264Encoder } from '../src/video/h264-encoder.js';
import { isKeyframe } from '../src/video/annexb.js';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_FRAME_MS, VIDEO_SAMPLES_PER_FRAME, wallNowMs } from '../src/video/video-clock.js';
import type { FromVideoWorker, ToVideoWorker, VideoWorkerData } from '../src/video/worker-protocol.js';

const data = workerData as VideoWorkerData;
const port = parentPort!;
const post = (msg: FromVideoWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

const renderer = new AvatarRenderer(data.width, data.height, data.seed);
await renderer.usePack(data.pack);
const track = new SpeechTrack(new PcmRing(data.ring));
const weights = new Float32Array(ARKIT_COUNT);
const startWall = wallNowMs();
let stopping = false;

/** Hand every ready inference window to the main thread (one in flight at a time). */
function pumpWindows(): void {
  const req = track.nextWindow();
  if (req) post({ type: 'window', req });
}

// ---------------------------------------------------------------- frame-stream dialect

interface Response {
  sequenceId: string;
  pcm16: Int16Array;
  totalFrames: number;
  next: number;
  due0: number;
}

const responses: Response[] = [];
/** No response may start before the previous one has finished playing. */
let streamFreeAt = 0;
let renderTimer: NodeJS.Timeout | null = null;

function queueResponse(sequenceId: string, pcm: Int16Array, sampleRate: number): void {
  const pcm16 = resamplePcm16(pcm, sampleRate, VIDEO_AUDIO_SAMPLE_RATE);
  responses.push({ sequenceId, pcm16, totalFrames: Math.ceil(pcm16.length / VIDEO_SAMPLES_PER_FRAME), next: 0, due0: 0 });
  if (responses.length === 1) startResponse();
  renderFrames();
}

function startResponse(): void {
  const r = responses[0];
  if (!r) return;
  if (r.pcm16.length > 0) {
    track.append(r.pcm16);
    track.end();
  }
  pumpWindows();
}

/** Render the head response's frames that are ready and due within the lead. */
function renderFrames(): void {
  if (renderTimer) {
    clearTimeout(renderTimer);
    renderTimer = null;
  }
  while (!stopping) {
    const r = responses[0];
    if (!r) return;
    if (r.next === 0 && r.due0 === 0) {
      if (r.totalFrames > 0 && track.readyFrames() === 0) return; // waiting for inference
      // A little lead so the client has a frame in hand before the clock starts.
      r.due0 = Math.max(wallNowMs() + 80, streamFreeAt);
      post({ type: 'streamStart', sequenceId: r.sequenceId, totalFrames: r.totalFrames, due: r.due0 - 1 });
    }
    if (r.next === r.totalFrames) {
      const endDue = r.due0 + r.totalFrames * VIDEO_FRAME_MS;
      post({ type: 'streamEnd', sequenceId: r.sequenceId, totalFrames: r.totalFrames, due: endDue });
      streamFreeAt = endDue;
      responses.shift();
      startResponse();
      continue;
    }
    const due = r.due0 + r.next * VIDEO_FRAME_MS;
    const wait = due - wallNowMs() - data.renderLeadMs;
    if (wait > 0) {
      renderTimer = setTimeout(renderFrames, wait);
      return;
    }
    if (!track.take(weights)) return; // waiting for inference; the weights message resumes us
    renderer.draw({ weights, t: (due - startWall) / 1000 });
    const msg = frameMessage(r, due, renderer.jpeg(data.jpegQuality));
    post(msg, [msg.bytes.buffer as ArrayBuffer]);
    r.next++;
  }
}

function frameMessage(r: Response, due: number, jpeg: Buffer): Extract<FromVideoWorker, { type: 'frame' }> {
  const k = r.next;
  // Audio in 200 ms chunks on every 5th frame, covering it and the next four (the last chunk
  // is whatever is left): the stream carries exactly the spoken audio once.
  let audio: string | null = null;
  if (k % 5 === 0) {
    const from = k * VIDEO_SAMPLES_PER_FRAME;
    const to = Math.min((k + 5) * VIDEO_SAMPLES_PER_FRAME, r.pcm16.length);
    audio = Buffer.from(r.pcm16.buffer, r.pcm16.byteOffset + from * 2, (to - from) * 2).toString('base64');
  }
  const json = JSON.stringify({
    type: 'frame',
    sequence_id: r.sequenceId,
    frame_index: k,
    frame_data: jpeg.toString('base64'),
    audio_data: audio,
    timestamp: new Date(due).toISOString(),
    progress: { current_frame: k + 1, total_frames: r.totalFrames },
  });
  const bytes = Buffer.from(json, 'utf8');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return { type: 'frame', sequenceId: r.sequenceId, bytes: copy, due };
}

function convertInput(id: number, bytes: Uint8Array, format: ClientAudioFormat, toRate: number): void {
  try {
    // Bounded by the main thread's header check: frames ≤ maxDurationS × 48 kHz, rate 8–48 kHz.
    const pcm = resamplePcm16(decodeClientAudio(bytes, format), format.sampleRate, toRate);
    post({ type: 'convertedInput', id, pcm, error: null }, [pcm.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'convertedInput', id, pcm: null, error: (err as Error).message });
  }
}

// ---------------------------------------------------------------- MuseTalk dialect

let encoder: H264Encoder | null = null;
let frameNumber = 0;
let clockOrigin = 0;
let clockTimer: NodeJS.Timeout | null = null;
let gapTimer: NodeJS.Timeout | null = null;
let playing = false;
let firstReadyAt = 0;
let segmentFirstFrame = -1;
let segmentFrames = 0;
let droppedIdleFrames = 0;
/**
 * Idle frames are drawn on every IDLE_DRAW_EVERY-th tick; the ticks between repeat the last
 * picture. Idle motion is slow (breathing, sway, blinks of ~160 ms), and a repeated picture is
 * nearly free for libx264 (all-skip P-frame) and free for the canvas: this is what keeps an idle
 * session (which the contract makes stream 25 FPS) cheap. Speech frames are always drawn.
 */
const IDLE_DRAW_EVERY = 2;
let lastIdlePicture: Uint8ClampedArray | null = null;

function startMuseTalk(): void {
  encoder = new H264Encoder({
    ffmpegPath: data.ffmpegPath!,
    width: data.width,
    height: data.height,
    onFrame: ({ au, frame, speech }) => {
      const json = `{"type":"VIDEO_FRAME","session_id":${JSON.stringify(data.sessionId)},"data":{"frame_data":"${au.toString('base64')}","frame_timestamp":${frame * VIDEO_FRAME_MS}}}`;
      const bytes = new Uint8Array(Buffer.byteLength(json));
      Buffer.from(bytes.buffer).write(json, 'utf8');
      post({ type: 'videoFrame', bytes, frame, keyframe: isKeyframe(au), speech }, [bytes.buffer]);
    },
    onFailure: (err) => {
      post({ type: 'error', code: 'PROCESSING_ERROR', message: `video encoder failed: ${err.message}`, fatal: true });
    },
  });
  post({ type: 'ready', ffmpegPid: encoder.pid ?? null });
  clockOrigin = wallNowMs();
  tick();
}

/** One 40 ms tick of the media clock: render frame `frameNumber` and hand it to the encoder. */
function tick(): void {
  if (stopping) return;
  const now = wallNowMs();
  // Late by more than five frames (a stalled thread): skip idle frames to catch up.
  while (now - (clockOrigin + frameNumber * VIDEO_FRAME_MS) > 5 * VIDEO_FRAME_MS && !speechDue(now)) {
    frameNumber++;
    droppedIdleFrames++;
  }
  const speech = nextSpeechFrame(now);
  if (speech) {
    renderer.draw({ weights, t: (frameNumber * VIDEO_FRAME_MS) / 1000 });
    encoder!.write(renderer.rgba(), frameNumber, true);
    lastIdlePicture = null;
  } else if (!encoder!.behind) {
    if (!lastIdlePicture || frameNumber % IDLE_DRAW_EVERY === 0) {
      renderer.draw({ weights: null, t: (frameNumber * VIDEO_FRAME_MS) / 1000 });
      lastIdlePicture = renderer.rgba();
    }
    // The renderer hands out a fresh buffer per picture, so repeating one is safe.
    encoder!.write(lastIdlePicture, frameNumber, false);
  } else {
    droppedIdleFrames++; // the encoder is behind: idle frames go first, speech frames never
  }
  frameNumber++;
  const next = clockOrigin + frameNumber * VIDEO_FRAME_MS;
  clockTimer = setTimeout(tick, Math.max(0, next - wallNowMs()));
}

/** Whether a speech frame would play now (used so a catch-up never skips speech). */
function speechDue(now: number): boolean {
  return playing || startCondition(now);
}

function startCondition(now: number): boolean {
  const ready = track.readyFrames();
  if (ready === 0) return false;
  if (firstReadyAt === 0) firstReadyAt = now;
  // Everything queued is ready (a burst, or the end of speech), or enough waited to ride out
  // the next window's inference without a gap.
  return ready >= track.queuedFrames || now - firstReadyAt >= data.speechStartDelayMs;
}

function nextSpeechFrame(now: number): boolean {
  if (!playing && startCondition(now)) playing = true;
  if (!playing) return false;
  const got = track.take(weights);
  if (!got) {
    playing = false; // starved mid-speech: rebuffer (idle frames fill in)
    firstReadyAt = 0;
    return false;
  }
  if (segmentFirstFrame < 0) segmentFirstFrame = frameNumber;
  segmentFrames++;
  if (got.last) {
    post({ type: 'segmentPlayed', firstFrame: segmentFirstFrame, lastFrame: frameNumber, frames: segmentFrames });
    segmentFirstFrame = -1;
    segmentFrames = 0;
    playing = false;
    firstReadyAt = 0;
  }
  pumpWindows();
  return true;
}

function onSpeech(pcm: Int16Array): void {
  track.append(pcm);
  if (gapTimer) clearTimeout(gapTimer);
  gapTimer = setTimeout(() => {
    gapTimer = null;
    track.end();
    pumpWindows();
  }, data.speechGapMs);
  pumpWindows();
}

// ---------------------------------------------------------------- both

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const t of [renderTimer, clockTimer, gapTimer]) if (t) clearTimeout(t);
  if (encoder) await encoder.close(500);
  post({ type: 'stopped', droppedIdleFrames });
  port.close();
}

port.on('message', (msg: ToVideoWorker) => {
  switch (msg.type) {
    case 'speech':
      onSpeech(msg.pcm);
      break;
    case 'response':
      queueResponse(msg.sequenceId, msg.pcm, msg.sampleRate);
      break;
    case 'convertInput':
      convertInput(msg.id, msg.bytes, msg.format, msg.toRate);
      break;
    case 'weights':
      track.onWeights(msg.id, msg.weights, msg.frameCount);
      pumpWindows();
      if (data.mode === 'frame-stream') renderFrames();
      break;
    case 'video':
      renderer.setState(msg.state);
      void renderer.usePack(msg.pack).catch((err: Error) => post({ type: 'error', code: 'MODEL_NOT_FOUND', message: `avatar could not be loaded: ${err.message}`, fatal: false }));
      break;
    case 'action':
      renderer.triggerAction(msg.index, (frameNumber * VIDEO_FRAME_MS) / 1000);
      break;
    case 'stop':
      void stop();
      break;
  }
});

if (data.mode === 'musetalk') startMuseTalk();
else post({ type: 'ready', ffmpegPid: null });
