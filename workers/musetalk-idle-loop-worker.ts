/**
 * Encodes the MuseTalk idle loop once per process (src/video/musetalk-idle-loop.ts): IDLE_LOOP_S
 * of the built-in avatar's idle animation at 25 FPS through one ffmpeg, keyframes every second,
 * posted frame by frame as base64 access units so sessions can stream the first ones while the
 * rest is encoded. The animation is periodic, so the loop is seamless. Exits when done.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { AvatarRenderer } from '../src/video/avatar-renderer.js';
import { H264Encoder } from '../src/video/h264-encoder.js';
import { isKeyframe } from '../src/video/annexb.js';
import { IDLE_LOOP_S } from '../src/video/idle-motion.js';
import { VIDEO_FPS, VIDEO_FRAME_MS } from '../src/video/video-clock.js';
import type { IdleLoopFromWorker, IdleLoopWorkerData } from '../src/video/musetalk-idle-loop.js';

/** Frames written ahead of the encoder's output: keeps ffmpeg busy without buffering a second of RGBA. */
const IN_FLIGHT = 4;

function encodeLoop(data: IdleLoopWorkerData, post: (msg: IdleLoopFromWorker) => void): void {
  const total = IDLE_LOOP_S * VIDEO_FPS;
  const renderer = new AvatarRenderer(data.width, data.height, data.seed);
  let written = 0;
  let out = 0;
  let closing = false;
  const writeMore = (): void => {
    while (written < total && written - out < IN_FLIGHT) {
      const t = (written * VIDEO_FRAME_MS) / 1000;
      renderer.draw({ weights: null, t, idleT: t });
      encoder.write(renderer.rgba(), written, false);
      written++;
    }
    // All frames in: end ffmpeg's input so the last access units come out.
    if (written === total && !closing) {
      closing = true;
      void encoder.close(5000);
    }
  };
  const encoder = new H264Encoder({
    ffmpegPath: data.ffmpegPath,
    width: data.width,
    height: data.height,
    onFrame: ({ au, frame }) => {
      post({ type: 'frame', index: frame, base64: au.toString('base64'), keyframe: isKeyframe(au) });
      out++;
      if (out === total) post({ type: 'done' });
      else writeMore();
    },
    onFailure: (err) => post({ type: 'failed', message: err.message }),
  });
  writeMore();
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  encodeLoop(workerData as IdleLoopWorkerData, (msg) => port.postMessage(msg));
}
