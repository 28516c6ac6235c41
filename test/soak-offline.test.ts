import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';

// Issue 13 soak, bounded for CI: 200 offline text turns against the real server process, its open
// descriptors and memory sampled from /proc. Four sessions take turns at once; turns are short and
// most are cut by the next text right after their audio starts (every sentence is still
// synthesized: that is where the old flite temp-dir leak was), every 25th plays to its end.
const CLIENTS = 4;
const TURNS = 200;
const WARM_UP_TURNS = 20;
/** Bounds, over the 180 turns after warm-up (the README's "hardening" figures). */
const MAX_FD_GROWTH = 5;
/**
 * RSS swings by ±100 MB with garbage collection and ONNX arenas (measured: 273–427 MB, no trend),
 * so a leak is judged on medians: the last 40 turns' against the first 40 after warm-up.
 */
const MAX_RSS_GROWTH_MB = 96;
const RSS_WINDOW_TURNS = 40;

t.setTimeout(120_000);
const server = await startServer({ RATE_LIMIT_MESSAGES_PER_S: '1000', RATE_LIMIT_MESSAGES_BURST: '1000' }, 120_000);
t.teardown(() => server.stop());
const pid = server.proc.pid!;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const openFds = (): number => readdirSync(`/proc/${pid}/fd`).length;
const rssMb = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** `turns` text turns on `client`; `onTurn` runs before each. */
async function converse(client: WidgetClient, turns: number, onTurn: () => void): Promise<void> {
  const texts = ['thanks', 'bye', 'hello'];
  for (let turn = 0; turn < turns; turn++) {
    onTurn();
    const from = client.received.length;
    client.send({ type: 'text', data: texts[turn % texts.length] });
    if (turn % 25 === 24 || turn === turns - 1) {
      await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.interrupted !== true, 30_000, from);
    } else {
      await client.waitType('audio_start', 30_000, from);
    }
  }
}

t.test(`${TURNS} offline turns: open fds and RSS stay flat`, async (t) => {
  let started = 0;
  let base = { fds: 0, rssMb: 0 };
  const startMs = performance.now();
  const rssSamples: number[] = [];
  const onTurn = (): void => {
    if (started >= WARM_UP_TURNS) rssSamples.push(rssMb());
    if (started++ === WARM_UP_TURNS) base = { fds: openFds(), rssMb: 0 };
  };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => WidgetClient.connect(server.url())));
  await Promise.all(clients.map((c) => c.waitType('config')));
  await Promise.all(clients.map((c) => converse(c, TURNS / CLIENTS, onTurn)));
  // Measured with the same sessions open as at the start.
  rssSamples.push(rssMb());
  const end = { fds: openFds(), rssMb: median(rssSamples.slice(-RSS_WINDOW_TURNS)) };
  base.rssMb = median(rssSamples.slice(0, RSS_WINDOW_TURNS));
  await Promise.all(clients.map((c) => c.close()));
  const turns = TURNS - WARM_UP_TURNS;
  t.equal(started, TURNS);
  t.comment(`${TURNS} turns in ${((performance.now() - startMs) / 1000).toFixed(1)} s`);
  t.comment(`fds ${base.fds} → ${end.fds} over ${turns} turns (${(((end.fds - base.fds) / turns) * 1000).toFixed(0)} per 1,000 turns)`);
  t.comment(`RSS median ${base.rssMb.toFixed(0)} → ${end.rssMb.toFixed(0)} MB (range ${Math.min(...rssSamples).toFixed(0)}–${Math.max(...rssSamples).toFixed(0)} MB)`);
  t.ok(end.fds - base.fds <= MAX_FD_GROWTH, `open fds grow by at most ${MAX_FD_GROWTH}: ${base.fds} → ${end.fds}`);
  t.ok(end.rssMb - base.rssMb <= MAX_RSS_GROWTH_MB, `RSS grows by at most ${MAX_RSS_GROWTH_MB} MB: ${base.rssMb.toFixed(0)} → ${end.rssMb.toFixed(0)} MB`);
});
