import t from 'tap';
import { DeadlineQueue, VideoFrameClock, wallNowMs } from './video-frame-clock.js';
import { virtualTimers } from '../../test/helpers/virtual-timers.js';

t.test('deadlines come from the origin: a late tick does not push the next frames back', async (t) => {
  const timers = virtualTimers();
  const clock = new VideoFrameClock(40, 1000, timers);
  const ticks: Array<[number, number]> = [];
  clock.run(0, (frame, now) => {
    ticks.push([frame, now]);
    return frame + 1;
  });
  for (let k = 0; k < 10; k++) timers.fireNext(k === 3 ? 25 : 3); // each fires 3 ms late, one 25 ms
  t.same(ticks.map(([f]) => f), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every frame in order');
  t.same(ticks.map(([f, now]) => Math.round(now - clock.dueMs(f))), [3, 3, 3, 25, 3, 3, 3, 3, 3, 3], 'lateness never accumulates');
  t.equal(timers.delays[4], 40 - 25, 'after a 25 ms late tick the next wait is shortened, not 40 ms');
  t.equal(clock.dueMs(9), 1000 + 9 * 40);
});

t.test('a tick may skip frames; stop ends the clock', async (t) => {
  const timers = virtualTimers();
  timers.t = 0;
  const clock = new VideoFrameClock(40, 0, timers);
  const frames: number[] = [];
  clock.run(2, (frame) => {
    frames.push(frame);
    return frame === 2 ? 6 : frame + 1;
  });
  timers.fireNext(0);
  timers.fireNext(0);
  t.same(frames, [2, 6]);
  const pending = timers.delays.length;
  const ended = new VideoFrameClock(40, 0, timers);
  ended.run(0, () => null);
  timers.fireNext(0);
  t.equal(timers.delays.length, pending + 1, 'a tick returning null ends the run: no further timer');
  t.equal(timers.t, 240, 'frame 6 ran at its own deadline');
  t.equal(clock.frameAt(259), 6);
  t.equal(clock.frameAt(-1), -1);
  clock.stop();
  const before = timers.delays.length;
  clock.run(10, () => 11);
  t.equal(timers.delays.length, before, 'a stopped clock sets no timer');
});

t.test('DeadlineQueue sends each message at its deadline, in order', async (t) => {
  const q = new DeadlineQueue();
  const sent: number[] = [];
  const now = wallNowMs();
  await new Promise<void>((resolve) => {
    q.schedule(now - 5, () => sent.push(0));
    q.schedule(now + 20, () => sent.push(1));
    q.schedule(now + 30, () => {
      sent.push(2);
      resolve();
    });
    t.same(sent, [0], 'an overdue message goes at once');
  });
  t.same(sent, [0, 1, 2]);
  t.ok(wallNowMs() >= now + 29, 'not before its deadline');
  q.schedule(wallNowMs() + 10_000, () => sent.push(3));
  q.clear();
  t.equal(q.size, 0, 'clear drops what is waiting');
});
