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

t.test('a flood of distinct keys cannot grow the map beyond maxKeys', async (t) => {
  const l = new KeyedRateLimiter(5, 1, 10_000, 1000);
  for (let i = 0; i < 100_000; i++) l.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 0);
  t.ok(l.size <= 1000, `size ${l.size} ≤ 1000`);
  // A key in active use survives the flood (least recently used keys go first).
  const busy = new KeyedRateLimiter(2, 0.001, 10_000, 100);
  t.ok(busy.take('attacker', 0) && busy.take('attacker', 0));
  for (let i = 0; i < 1000; i++) {
    busy.take(`k${i}`, 0);
    if (i % 50 === 0) t.notOk(busy.take('attacker', 0), 'the busy key stays limited');
  }
  l.close();
  busy.close();
});
