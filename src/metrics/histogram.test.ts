import t from 'tap';
import { Histogram } from './histogram.js';

t.test('buckets, count, sum and max', async (t) => {
  const h = new Histogram([1, 5, 10]);
  for (const v of [0.5, 1, 3, 7, 12, 100]) h.observe(v);
  t.same(h.counts, [2, 1, 1, 2], 'cumulative-style upper bounds: ≤1, ≤5, ≤10, +Inf');
  t.equal(h.count, 6);
  t.equal(h.sum, 123.5);
  t.equal(h.max, 100);
});

t.test('quantiles over the recent reservoir follow every new observation', async (t) => {
  const h = new Histogram([1], 8);
  t.equal(h.quantile(0.5), 0, 'empty: 0');
  for (const v of [5, 1, 4, 2, 3]) h.observe(v);
  t.equal(h.quantile(0), 1);
  t.equal(h.quantile(0.5), 3);
  t.equal(h.quantile(0.99), 5);
  // Asked again after more observations: the answer is not a stale sort.
  h.observe(10);
  h.observe(11);
  t.equal(h.quantile(0.99), 11, 'a new maximum shows at once');
  t.equal(h.quantile(0.5), 4, 'the median moved');
  // The reservoir keeps the last 8 observations only.
  for (let i = 0; i < 8; i++) h.observe(100 + i);
  t.equal(h.quantile(0), 100, 'older values have left the reservoir');
  t.equal(h.max, 107);
});
