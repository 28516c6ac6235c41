import t from 'tap';
import { TurnClock } from './turn-clock.js';

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
