import t from 'tap';
import { KeyedRateLimiter, TokenBucket } from './rate-limit.js';

t.test('a bucket trips after its capacity and recovers at its rate', async (t) => {
  const b = new TokenBucket(3, 10, 0);
  t.ok(b.take(0) && b.take(0) && b.take(0));
  t.notOk(b.take(0), 'empty');
  t.notOk(b.take(50), 'half a token after 50 ms');
  t.ok(b.take(100), 'one token after 100 ms');
  t.ok(b.isFull(1000));
});

t.test('keyed buckets are independent and cleaned up', async (t) => {
  const l = new KeyedRateLimiter(2, 1);
  t.ok(l.take('a', 0) && l.take('a', 0));
  t.notOk(l.take('a', 0));
  t.ok(l.take('b', 0), 'another key has its own bucket');
  t.equal(l.size, 2);
  l.sweep(10_000);
  t.equal(l.size, 0, 'full buckets are forgotten');
  l.close();
});
