import t from 'tap';
import { sendFloor } from '../bench/send-floor.js';

// The dev probe behind README "Where the remaining budgets go": a bare uWS main thread sending
// pacer-style batches of real sync_frame bytes to loopback clients in another process.
t.test('send floor: every frame at 30 FPS per client reaches its client; the cost is per frame sent', async (t) => {
  const r = await sendFloor(4, 1);
  t.ok(r.frameBytes > 3000, `a real sync_frame (${r.frameBytes} bytes)`);
  t.ok(Math.abs(r.framesPerS - 4 * 30) < 4 * 30 * 0.25, `4 clients × 30 FPS (${r.framesPerS.toFixed(1)} frames/s)`);
  t.ok(r.sent > 0 && r.received === r.sent, `all ${r.sent} frames received`);
  t.ok(Number.isFinite(r.mainThreadUsPerFrame) && r.mainThreadUsPerFrame > 0, `main thread ${r.mainThreadUsPerFrame.toFixed(1)} µs per frame`);
  t.ok(r.mainThreadKernelUsPerFrame >= 0 && r.mainThreadKernelUsPerFrame <= r.mainThreadUsPerFrame, 'the kernel share is part of it');
});
