import t from 'tap';
import { MuseTalkIdleStream } from './musetalk-idle-stream.js';
import { IDLE_LOOP_FRAMES, type LoopFrame } from './musetalk-idle-loop.js';
import { virtualTimers } from '../../test/helpers/virtual-timers.js';

/** A complete loop whose access unit i is "i", a keyframe every 25. */
const loop = (available = IDLE_LOOP_FRAMES) => ({
  at: (i: number): LoopFrame | undefined => (i < available ? { base64: String(i), keyframe: i % 25 === 0 } : undefined),
  failed: false,
  startPosition: () => 50,
});

t.test('idle frames: loop order from a keyframe; a missing access unit is waited for, never skipped', async (t) => {
  const timers = virtualTimers();
  const sent: Array<[number, string]> = [];
  const s = new MuseTalkIdleStream(loop(52), (frame, au) => sent.push([frame, au.base64]), () => t.fail('no worker needed'), timers);
  s.start();
  for (let k = 0; k < 4; k++) timers.fireNext(0);
  t.same(sent, [[0, '50'], [1, '51']], 'frames 0, 1 from the keyframe at 50; frames 2, 3 wait for access unit 52');
});

t.test('hand-over and resume keep frame numbers rising and resume at a keyframe of the phase shown', async (t) => {
  const timers = virtualTimers();
  const sent: Array<[number, string]> = [];
  const s = new MuseTalkIdleStream(loop(), (frame, au) => sent.push([frame, au.base64]), () => undefined, timers);
  s.start();
  for (let k = 0; k < 3; k++) timers.fireNext(0); // frames 0..2 = positions 50..52
  const { firstFrame, idlePhaseFrame } = s.handOver(2);
  t.equal(firstFrame, 4, 'the worker starts one frame after the stream\'s next');
  t.equal(firstFrame - idlePhaseFrame, 54, 'at the loop position the stream would have shown then');
  // The worker sent frames 4..100 and was released: the loop resumes at frame 101, at the
  // first keyframe at or after the phase frame 101 shows (54 + 97 = 151 → 175).
  s.resume(100, idlePhaseFrame);
  timers.fireNext(0);
  t.same(sent.slice(3), [[101, '175']], 'nothing in between (the worker had the stream), then the keyframe');
  s.stop();
});
