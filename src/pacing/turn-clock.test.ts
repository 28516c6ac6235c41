import t from 'tap';
import { SOURCE_HEADROOM_MS, TurnClock, UNDERRUN_SLACK_MS } from './turn-clock.js';

t.test('absolute deadlines with a lead', async (t) => {
  const c = new TurnClock(2);
  t.notOk(c.started);
  c.start(1000);
  t.ok(c.started);
  t.equal(c.deadline(0), 1000 - 2000 / 30);
  t.equal(c.deadline(2), 1000, 'frame `lead` is due at the origin');
  t.equal(c.deadline(32), 2000, 'frame lead+30 one second later: no drift');
  t.ok(c.isLead(2) && !c.isLead(3));
});

t.test('re-anchoring keeps spacing from a late frame', async (t) => {
  const c = new TurnClock(0);
  c.start(0);
  c.reanchor(10, 500); // frame 10 went out at 500 ms instead of 333
  t.equal(c.deadline(10), 500);
  t.ok(Math.abs(c.deadline(11) - (500 + 1000 / 30)) < 1e-9);
});

t.test('re-anchoring with slack delays the following frames by the slack', async (t) => {
  const c = new TurnClock(2);
  c.start(0);
  c.reanchor(20, 1000, 66);
  t.equal(c.deadline(20), 1066);
  t.ok(Math.abs(c.deadline(21) - (1066 + 1000 / 30)) < 1e-9);
});

t.test('a late frame whose audio was in with room to spare is an inference tail: the clock keeps its schedule', async (t) => {
  const c = new TurnClock(2);
  c.start(1000);
  const due20 = c.deadline(20);
  const due30 = c.deadline(30);
  // Frame 20's window came back 150 ms late; its audio had been in 400 ms before it was due.
  t.equal(c.late(20, due20 + 150, due20 - 400), false, 'not re-anchored');
  t.equal(c.deadline(20), due20);
  t.equal(c.deadline(30), due30, 'the frames after it keep their deadlines');
  t.equal(c.originMs, 1000, 'the origin (what the main thread mirrors) did not move');
  t.equal(c.late(21, due20 + 150, due20 - 400), false, 'the same answer for the window\'s next late frame');
  t.equal(c.late(20, due20 + 150, due20 - SOURCE_HEADROOM_MS), false, 'exactly the headroom is still in time');
});

t.test('a late frame whose audio itself came late is a source behind real time: re-anchored with slack', async (t) => {
  const c = new TurnClock(2);
  c.start(1000);
  const due20 = c.deadline(20);
  t.equal(c.late(20, due20 + 150, due20 + 140), true, 'audio after the deadline');
  t.equal(c.deadline(20), due20 + 150 + UNDERRUN_SLACK_MS, 'the late frame is re-anchored at its send time plus slack');
  t.ok(Math.abs(c.deadline(21) - (due20 + 150 + UNDERRUN_SLACK_MS + 1000 / 30)) < 1e-9, '30 FPS from it');
});

t.test('audio in, but with less than the headroom: the agent is the limit, so it re-anchors', async (t) => {
  const c = new TurnClock(2);
  c.start(0);
  const due10 = c.deadline(10);
  t.equal(c.late(10, due10 + 50, due10 - SOURCE_HEADROOM_MS + 1), true);
  t.equal(c.deadline(10), due10 + 50 + UNDERRUN_SLACK_MS);
});

t.test('when the audio came in is not known, a late frame re-anchors (the policy before audio times were passed)', async (t) => {
  const c = new TurnClock(2);
  c.start(0);
  const due10 = c.deadline(10);
  t.equal(c.late(10, due10 + 50, undefined), true);
  t.equal(c.deadline(10), due10 + 50 + UNDERRUN_SLACK_MS);
});
