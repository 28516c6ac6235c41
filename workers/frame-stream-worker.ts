/**
 * Frame-stream video worker (one thread per frame-stream session that has something to do;
 * PROTOCOL.md §2): each response's speech → inference windows (run by the main thread's ONNX
 * pool) → 25 FPS blendshape frames → rendered avatar → finished `frame` messages (JSON bytes)
 * stamped with their send time. Also turns client `audio_input` into PCM for the agent.
 * All state lives in one FrameStreamWorker per thread.
 */
import { resamplePcm16 } from '../src/audio/resampler.js';
import { decodeClientAudio, type ClientAudioFormat } from '../src/video/client-audio.js';
import { VideoWorkerBase, runVideoWorker } from './video-worker-base.js';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_FRAME_MS, VIDEO_SAMPLES_PER_FRAME } from '../src/video/video-clock.js';
import { VideoFrameClock, wallNowMs } from '../src/pacing/video-frame-clock.js';
import { frameMessageJson } from '../src/protocol/frame-stream-server.js';
import type { FrameStreamWorkerData, FromVideoWorker, ToVideoWorker } from '../src/video/worker-protocol.js';

interface Response {
  sequenceId: string;
  pcm16: Int16Array;
  totalFrames: number;
  next: number;
  /** The response's media clock; set when its first frame is ready. */
  clock: VideoFrameClock | null;
}

/** Lead before a response's first frame, so the client has one in hand before the clock starts. */
const START_LEAD_MS = 80;

export class FrameStreamWorker extends VideoWorkerBase<FrameStreamWorkerData> {
  private readonly startWall = wallNowMs();
  private readonly responses: Response[] = [];
  /** No response may start before the previous one has finished playing. */
  private streamFreeAt = 0;

  override onMessage(msg: ToVideoWorker): void {
    switch (msg.type) {
      case 'response':
        return this.queueResponse(msg.sequenceId, msg.pcm, msg.sampleRate);
      case 'convertInput':
        return this.convertInput(msg.id, msg.bytes, msg.format, msg.toRate);
      case 'weights':
        this.onWeights(msg.id, msg.weights, msg.frameCount);
        return this.renderFrames();
      case 'stop':
        return this.stop();
      default:
        return;
    }
  }

  private queueResponse(sequenceId: string, pcm: Int16Array, sampleRate: number): void {
    const pcm16 = resamplePcm16(pcm, sampleRate, VIDEO_AUDIO_SAMPLE_RATE);
    this.responses.push({ sequenceId, pcm16, totalFrames: Math.ceil(pcm16.length / VIDEO_SAMPLES_PER_FRAME), next: 0, clock: null });
    if (this.responses.length === 1) this.startResponse();
    this.renderFrames();
  }

  private startResponse(): void {
    const r = this.responses[0];
    if (!r) return;
    if (r.pcm16.length > 0) {
      this.track.append(r.pcm16);
      this.track.end();
    }
    this.pumpWindows();
  }

  /** Render the head response's frames that are ready and due within the render lead. */
  private renderFrames(): void {
    while (!this.stopping) {
      const r = this.responses[0];
      if (!r) return;
      if (!r.clock) {
        if (r.totalFrames > 0 && this.track.readyFrames() === 0) return; // waiting for inference
        r.clock = new VideoFrameClock(VIDEO_FRAME_MS, Math.max(wallNowMs() + START_LEAD_MS, this.streamFreeAt));
        this.post({ type: 'streamStart', sequenceId: r.sequenceId, totalFrames: r.totalFrames, due: r.clock.originMs - 1 });
      }
      if (r.next === r.totalFrames) {
        const endDue = r.clock.dueMs(r.totalFrames);
        this.post({ type: 'streamEnd', sequenceId: r.sequenceId, totalFrames: r.totalFrames, due: endDue });
        this.streamFreeAt = endDue;
        r.clock.stop();
        this.responses.shift();
        this.startResponse();
        continue;
      }
      const due = r.clock.dueMs(r.next);
      if (due - wallNowMs() - this.data.renderLeadMs > 0) {
        r.clock.wakeAt(due - this.data.renderLeadMs, () => this.renderFrames());
        return;
      }
      if (!this.track.take(this.weights)) return; // waiting for inference; the weights message resumes us
      this.renderer.draw({ weights: this.weights, t: (due - this.startWall) / 1000 });
      const msg = this.frameMessage(r, due, this.renderer.jpeg(this.data.jpegQuality));
      this.post(msg, [msg.bytes.buffer as ArrayBuffer]);
      r.next++;
    }
  }

  private frameMessage(r: Response, due: number, jpeg: Buffer): Extract<FromVideoWorker, { type: 'frame' }> {
    const k = r.next;
    // Audio in 200 ms chunks on every 5th frame, covering it and the next four (the last chunk
    // is whatever is left): the stream carries exactly the spoken audio once.
    let audio: string | null = null;
    if (k % 5 === 0) {
      const from = k * VIDEO_SAMPLES_PER_FRAME;
      const to = Math.min((k + 5) * VIDEO_SAMPLES_PER_FRAME, r.pcm16.length);
      audio = Buffer.from(r.pcm16.buffer, r.pcm16.byteOffset + from * 2, (to - from) * 2).toString('base64');
    }
    const json = frameMessageJson(r.sequenceId, k, r.totalFrames, jpeg.toString('base64'), audio, due);
    const bytes = Buffer.from(json, 'utf8');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return { type: 'frame', sequenceId: r.sequenceId, bytes: copy, due };
  }

  private convertInput(id: number, bytes: Uint8Array, format: ClientAudioFormat, toRate: number): void {
    try {
      // Bounded by the main thread's header check: frames ≤ maxDurationS × 48 kHz, rate 8–48 kHz.
      const pcm = resamplePcm16(decodeClientAudio(bytes, format), format.sampleRate, toRate);
      this.post({ type: 'convertedInput', id, pcm, error: null }, [pcm.buffer as ArrayBuffer]);
    } catch (err) {
      this.post({ type: 'convertedInput', id, pcm: null, error: (err as Error).message });
    }
  }

  ready(): void {
    this.post({ type: 'ready', ffmpegPid: null });
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const r of this.responses) r.clock?.stop();
    this.post({ type: 'stopped', droppedIdleFrames: 0 });
    this.closePort();
  }
}

const worker = await runVideoWorker<FrameStreamWorkerData, FrameStreamWorker>('frame-stream', (data, port, renderer) => new FrameStreamWorker(data, port, renderer));
worker?.ready();
