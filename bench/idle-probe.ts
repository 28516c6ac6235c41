/**
 * The idle probe (a child process of the bench): a Node process that does nothing but measure its
 * own event-loop delay, exactly as the server does (LoopDelayMonitor, windows of
 * LOOP_DELAY_WINDOW_S). Run beside a load step, it shows what the machine alone does to an event
 * loop at that moment — a timer wake-up that the kernel or the hypervisor serves late, a core held
 * by another thread or process — so the server's figure can be read against that floor.
 *
 * IPC: it says `ready`; `read` → `window` (the last complete window, null before the first);
 * `block` with `ms` (tests only) busy-waits its own loop that long; `exit` ends it.
 */
import { LOOP_DELAY_WINDOW_S, LoopDelayMonitor, type LoopDelaySnapshot } from '../src/metrics/loop-delay.js';
import type { FromIdleProbe, ToIdleProbe } from './load-protocol.js';

const windowMs = Number(process.argv[2]) || LOOP_DELAY_WINDOW_S * 1000;
const monitor = new LoopDelayMonitor();
let last: LoopDelaySnapshot | null = null;
setInterval(() => {
  last = monitor.snapshot();
  monitor.reset();
}, windowMs);

const send = (m: FromIdleProbe) => process.send?.(m);
process.on('message', (raw) => {
  const msg = raw as ToIdleProbe;
  if (msg.op === 'read') send({ op: 'window', window: last });
  else if (msg.op === 'block') {
    const until = performance.now() + msg.ms;
    while (performance.now() < until);
  } else if (msg.op === 'exit') process.exit(0);
});
send({ op: 'ready' });
