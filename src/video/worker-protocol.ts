import type { AvatarPackManifest, VideoState } from './avatar-pack.js';
import type { ClientAudioFormat } from './client-audio.js';
import type { WindowRequest } from './speech-track.js';

/**
 * The typed protocol between a video session on the main thread (src/video/*-session.ts, through
 * VideoWorkerHandle) and its worker (workers/frame-stream-worker.ts, workers/musetalk-worker.ts).
 * The worker renders, encodes and builds the outgoing message bytes; the main thread only runs
 * inference windows through the shared pool and sends bytes.
 */
interface WorkerDataBase {
  sessionId: string;
  width: number;
  height: number;
  /** Idle motion seed (blinks, sway). */
  seed: number;
  pack: AvatarPackManifest | null;
  /** The session's 24 kHz PcmRing for inference windows; the worker is its producer. */
  ring: SharedArrayBuffer;
  /** 24 kHz samples of the audio after a window fed to the model with it when already in (INFERENCE_RIGHT_CONTEXT_MS). */
  rightContextSamples: number;
}

export interface FrameStreamWorkerData extends WorkerDataBase {
  mode: 'frame-stream';
  jpegQuality: number;
  /** Frames rendered at most this far ahead of their send time, ms. */
  renderLeadMs: number;
}

export interface MuseTalkWorkerData extends WorkerDataBase {
  mode: 'musetalk';
  ffmpegPath: string;
  /** Speech frames may wait at most this long for inference before idle frames fill in, ms. */
  speechStartDelayMs: number;
  /** After this long without GENERATE audio the speech segment ends, ms. */
  speechGapMs: number;
}

export type VideoWorkerData = FrameStreamWorkerData | MuseTalkWorkerData;
export type VideoMode = VideoWorkerData['mode'];

export type ToVideoWorker =
  | { type: 'speech'; pcm: Int16Array }
  | { type: 'response'; sequenceId: string; pcm: Int16Array; sampleRate: number }
  /** Client audio whose header `inspectClientAudio` accepted on the main thread. */
  | { type: 'convertInput'; id: number; bytes: Uint8Array; format: ClientAudioFormat; toRate: number }
  | { type: 'weights'; id: number; weights: Float32Array | null; frameCount: number }
  | { type: 'video'; pack: AvatarPackManifest | null; state: VideoState }
  | { type: 'action'; index: number }
  /**
   * MuseTalk: take over the stream at frame `firstFrame` of the session's clock (frame k due at
   * `clockOriginMs` + k · 40 ms; the main thread sent the shared idle loop before it); idle
   * motion continues the loop's, whose position 0 fell on `idlePhaseFrame`.
   */
  | { type: 'start'; clockOriginMs: number; firstFrame: number; idlePhaseFrame: number }
  | { type: 'stop' };

export type FromVideoWorker =
  /** Renderer (and MuseTalk: encoder) up; MuseTalk waits for `start`. */
  | { type: 'ready'; ffmpegPid: number | null }
  | { type: 'window'; req: WindowRequest }
  | { type: 'convertedInput'; id: number; pcm: Int16Array | null; error: string | null }
  /** Frame-stream: `due` is the wall-clock send time (ms since the epoch, fractional). */
  | { type: 'streamStart'; sequenceId: string; totalFrames: number; due: number }
  | { type: 'frame'; sequenceId: string; bytes: Uint8Array; due: number }
  | { type: 'streamEnd'; sequenceId: string; totalFrames: number; due: number }
  /** MuseTalk: a finished VIDEO_FRAME message. */
  | { type: 'videoFrame'; bytes: Uint8Array; frame: number; keyframe: boolean; speech: boolean }
  | { type: 'segmentPlayed'; firstFrame: number; lastFrame: number; frames: number }
  | { type: 'error'; code: string; message: string; fatal: boolean }
  | { type: 'stopped'; droppedIdleFrames: number };
