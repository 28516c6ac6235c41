import type { AvatarPackManifest, VideoState } from './avatar-pack.js';
import type { ClientAudioFormat } from './client-audio.js';
import type { WindowRequest } from './speech-track.js';

/**
 * The typed protocol between a video session on the main thread and its worker
 * (workers/video-session.ts). The worker renders, encodes and builds the outgoing message
 * bytes; the main thread only runs inference windows through the shared pool and sends bytes.
 */
export type VideoMode = 'frame-stream' | 'musetalk';

export interface VideoWorkerData {
  mode: VideoMode;
  sessionId: string;
  width: number;
  height: number;
  seed: number;
  jpegQuality: number;
  /** ffmpeg binary (musetalk mode). */
  ffmpegPath: string | null;
  pack: AvatarPackManifest | null;
  /** The session's 24 kHz PcmRing for inference windows; the worker is its producer. */
  ring: SharedArrayBuffer;
  /** Frame-stream: frames rendered at most this far ahead of their send time, ms. */
  renderLeadMs: number;
  /** MuseTalk: speech frames may wait at most this long for inference before idle frames fill in, ms. */
  speechStartDelayMs: number;
  /** MuseTalk: after this long without GENERATE audio the speech segment ends, ms. */
  speechGapMs: number;
}

export type ToVideoWorker =
  | { type: 'speech'; pcm: Int16Array }
  | { type: 'response'; sequenceId: string; pcm: Int16Array; sampleRate: number }
  /** Client audio whose header `inspectClientAudio` accepted on the main thread. */
  | { type: 'convertInput'; id: number; bytes: Uint8Array; format: ClientAudioFormat; toRate: number }
  | { type: 'weights'; id: number; weights: Float32Array | null; frameCount: number }
  | { type: 'video'; pack: AvatarPackManifest | null; state: VideoState }
  | { type: 'action'; index: number }
  | { type: 'stop' };

export type FromVideoWorker =
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
