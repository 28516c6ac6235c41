import t from 'tap';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { applyRealtimePriority, currentThreadId, threadScheduling } from './realtime-priority.js';
import { maySetRealtime } from '../../test/helpers/capabilities.js';

const logger = pino({ level: 'silent' });
const main = currentThreadId();
const skip = main !== null && maySetRealtime() ? false : 'needs Linux and root or CAP_SYS_NICE (CI runs as root)';

t.test('this thread\'s id and scheduling from /proc', async (t) => {
  t.equal(main, process.pid, 'the main thread\'s id is the process id');
  t.match(threadScheduling(main!), { policy: 'normal', rtPriority: 0 });
  t.equal(threadScheduling(2 ** 30), null, 'no such thread');
});

t.test('off: nothing is asked of the kernel', async (t) => {
  const r = await applyRealtimePriority({ priority: 0, explicit: false }, [{ name: 'main', tid: main }], logger);
  t.match(r, { status: 'off', priority: 0, threads: [{ name: 'main', policy: 'normal' }] });
});

t.test('all or none: when one thread cannot be changed, those already changed go back', { skip }, async (t) => {
  const r = await applyRealtimePriority({ priority: 7, explicit: true }, [{ name: 'main', tid: main }, { name: 'gone', tid: 2 ** 30 }], logger);
  t.equal(r.status, 'failed');
  t.match(r.reason, /^gone thread: /, 'names the thread that failed');
  t.match(threadScheduling(main!), { policy: 'normal', rtPriority: 0 }, 'the main thread is back on the normal policy');
});

t.test('on: this thread runs SCHED_RR; a worker thread and a process it starts afterwards do not', { skip }, async (t) => {
  t.teardown(() => void execFileSync('chrt', ['--other', '-p', '0', String(main)]));
  const r = await applyRealtimePriority({ priority: 7, explicit: true }, [{ name: 'main', tid: main }], logger);
  t.match(r, { status: 'on', priority: 7, threads: [{ name: 'main', policy: 'rr', rtPriority: 7 }] });
  const worker = new Worker("const { readlinkSync } = require('node:fs'); require('node:worker_threads').parentPort.postMessage(readlinkSync('/proc/thread-self'))", { eval: true });
  const self = await new Promise<string>((resolve) => worker.once('message', resolve));
  const tid = Number(/task\/(\d+)$/.exec(self)![1]);
  t.match(threadScheduling(tid), { policy: 'normal', rtPriority: 0 }, 'a worker thread started after the change: normal policy');
  await worker.terminate();
  const stat = execFileSync(process.execPath, ['-e', "process.stdout.write(require('node:fs').readFileSync('/proc/self/stat', 'utf8'))"], { encoding: 'utf8' });
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  t.equal(fields[41 - 3], '0', 'a child process started after the change: SCHED_OTHER');
});
