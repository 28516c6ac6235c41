// The demo page in a real browser: headless Chromium (Debian's, driven by playwright-core) loads
// GET / from the real server, whose agent is a scripted fake remote agent. The page talks, the
// face moves and comes back to neutral, interrupts stop playback, and the fake microphone's
// audio reaches the agent. Screenshots go to test-artifacts/ (a CI artifact).

import t from 'tap';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { FakeRemoteAgent, syntheticSpeech, type Upstream } from '../helpers/fake-remote-agent.js';
import { chromiumMissing, launchChromium } from './chromium.js';
import { encodeWav } from '../../src/audio/wav.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SAMPLE_RATE = 24_000;
const SAMPLES_PER_FRAME = 800;

/** FNV-1a over the face canvas's pixels: equal hashes = the same picture. */
const CANVAS_HASH = `(() => {
  const c = document.getElementById('face');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0x811c9dc5;
  for (let i = 0; i < d.length; i += 4) h = Math.imul(h ^ d[i] ^ (d[i + 1] << 8) ^ (d[i + 2] << 16), 16777619);
  return (h >>> 0).toString(16);
})()`;
/** Pixels that differ clearly from the neutral face stored by KEEP_NEUTRAL. */
const CANVAS_DIFF = `(() => {
  const c = document.getElementById('face');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const n = window.__neutralPixels;
  let changed = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - n[i]) + Math.abs(d[i + 1] - n[i + 1]) + Math.abs(d[i + 2] - n[i + 2]) > 48) changed++;
  }
  return changed;
})()`;
const KEEP_NEUTRAL = `(() => {
  const c = document.getElementById('face');
  window.__neutralPixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
})()`;

interface DemoState {
  connection: string;
  config: { inputSampleRate: number; outputSampleRate: number } | null;
  avatarState: string | null;
  playing: boolean;
  faceNeutral: boolean;
  audioContextState: string;
  framesReceived: number;
  framesScheduled: number;
  framesPlayed: number;
  framesApplied: number;
  framesIgnored: number;
  framesStopped: number;
  scheduledByTurn: Record<string, number>;
  turnsPlayed: string[];
  interruptedTurns: string[];
  interruptsSent: number;
  interruptsReceived: number;
  micState: string;
  audioChunksSent: number;
  pongs: number;
  errors: unknown[];
}

/** The strongest period in 60–400 Hz, as a frequency: a wrong sample rate would shift it. */
function pitchHz(pcm: Buffer, sampleRate: number): number {
  const x = Array.from({ length: pcm.length >> 1 }, (_, i) => pcm.readInt16LE(2 * i) / 32768);
  let bestLag = 0;
  let best = -Infinity;
  for (let lag = Math.floor(sampleRate / 400); lag <= Math.ceil(sampleRate / 60); lag++) {
    let sum = 0;
    for (let i = 0; i + lag < x.length; i++) sum += x[i]! * x[i + lag]!;
    const normalized = sum / (x.length - lag);
    if (normalized > best) {
      best = normalized;
      bestLag = lag;
    }
  }
  return sampleRate / bestLag;
}

function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += (pcm.readInt16LE(i) / 32768) ** 2;
  return Math.sqrt(sum / Math.max(1, pcm.length / 2));
}

/** Words revealed at 16 chars/s over 5 s of audio; the last one longer than any bubble is wide. */
const LONG_WORDS = ['Here', 'are', 'some', 'words,', '"quoted"', 'and', 'then', `${'Supercalifragilisticexpialidocious'.repeat(5)}.`];
/** The last assistant bubble: its words, and those shown so far. */
const BUBBLE_WORDS = `(() => {
  const line = [...document.querySelectorAll('.line.assistant')].at(-1);
  return { all: line?.querySelectorAll('.word').length ?? 0, shown: line?.querySelectorAll('.word:not([hidden])').length ?? 0 };
})()`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const missing = chromiumMissing();
if (missing) {
  t.fail(missing);
} else {
  await run();
}

async function run(): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'demo-page-'));
  const micWav = join(scratch, 'mic.wav');
  writeFileSync(micWav, encodeWav(syntheticSpeech(2, { f0: 180, seed: 7 }), SAMPLE_RATE));

  const agent = await FakeRemoteAgent.start();
  const server: ServerProcess = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url });
  const browser: Browser = await launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${micWav}`,
    '--autoplay-policy=no-user-gesture-required',
  ]);
  t.teardown(async () => {
    await browser.close().catch(() => {});
    await server.stop();
    await agent.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const page: Page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  const state = () => page.evaluate<DemoState>('window.__demo');
  const until = (expr: string, timeout = 10_000) => page.waitForFunction(expr, undefined, { timeout, polling: 20 });
  const canvasHash = () => page.evaluate<string>(CANVAS_HASH);

  // Responses by the text the page sends; each records the upstream session it spoke on.
  let upstream: Upstream | null = null;
  agent.onText = (up, text) => {
    upstream = up;
    if (text === 'hello avatar') void agent.speak(up, syntheticSpeech(1.6, { pauseAt: [0.8, 1.0] }), { words: ['Hello', 'there,', 'friend.'] });
    else if (text.startsWith('tell me a long story')) void agent.speak(up, syntheticSpeech(8), { words: ['Once', 'upon', 'a', 'time', 'there', 'was', 'a', 'server.'] });
    else if (text === 'stop, say hi') void agent.speak(up, syntheticSpeech(0.6), { words: ['Hi!'] });
  };

  // idle=0: no client-side blinks, so the neutral face is one exact picture; pings every second.
  await page.goto(`http://127.0.0.1:${server.port}/?idle=0&pingMs=1000`);

  await t.test('the page connects and gets the config', async (t) => {
    await until(`window.__demo.connection === 'open' && window.__demo.config !== null`);
    const s = await state();
    t.same(s.config, { inputSampleRate: 24000, outputSampleRate: 24000 });
    t.equal(await page.textContent('#connection'), 'connected');
    t.equal(await page.isEnabled('#mic'), true, 'mic button enabled once config is known');
  });

  let neutralHash = '';

  await t.test('a typed message: audio plays in sync, the face moves, then returns to neutral', async (t) => {
    await until('window.__demo.faceNeutral');
    neutralHash = await canvasHash();
    await page.evaluate(KEEP_NEUTRAL);

    await page.fill('#message', 'hello avatar');
    await page.press('#message', 'Enter');
    await until('window.__demo.framesScheduled >= 3');
    const expectedFrames = Math.ceil((1.6 * SAMPLE_RATE) / SAMPLES_PER_FRAME);

    // Sample the canvas while the turn plays: many different pictures, far from neutral.
    const hashes = new Set<string>();
    let maxChanged = 0;
    let speakingShot = false;
    for (let i = 0; i < 40 && (await state()).framesScheduled < expectedFrames; i++) {
      hashes.add(await canvasHash());
      const changed = await page.evaluate<number>(CANVAS_DIFF);
      if (changed > maxChanged) maxChanged = changed;
      if (!speakingShot && changed > 3000) {
        await page.screenshot({ path: join(ARTIFACTS, 'demo-page-speaking.png') });
        speakingShot = true;
      }
      await sleep(30);
    }
    hashes.delete(neutralHash);
    t.ok(hashes.size >= 5, `the face changes while speaking (${hashes.size} distinct pictures)`);
    t.ok(maxChanged > 1500, `the mouth moves visibly (${maxChanged} pixels differ from neutral)`);

    await until(`window.__demo.turnsPlayed.length === 1`, 10_000);
    const s = await state();
    const turnId = Object.keys(s.scheduledByTurn)[0]!;
    t.match(turnId, /^turn_\d+_[0-9a-f]{8}$/);
    t.equal(s.scheduledByTurn[turnId], expectedFrames, 'every frame of the turn scheduled on the audio clock');
    t.equal(s.framesIgnored, 0);
    t.equal(s.audioContextState, 'running', 'AudioContext running (audio plays)');
    await until(`window.__demo.framesPlayed >= ${expectedFrames}`, 3_000);
    t.ok(s.framesApplied >= expectedFrames * 0.6, `weights applied as their audio played (${s.framesApplied} of ${expectedFrames})`);

    await until('window.__demo.faceNeutral && !window.__demo.playing', 3_000);
    await until(`(${CANVAS_HASH}) === '${neutralHash}'`, 3_000);
    t.pass('the face is exactly neutral again after speaking');

    await until(`document.querySelector('[data-turn-id="${turnId}"].done') !== null`);
    t.equal((await page.textContent(`[data-turn-id="${turnId}"] .text`))?.trim(), 'Hello there, friend.', 'assistant transcript');
    t.equal(await page.locator(`[data-turn-id="${turnId}"] .word.spoken`).count(), 3, 'every word lit up as heard');
    t.equal((await page.textContent('.line.user .text'))?.trim(), 'hello avatar', 'the user line');
    t.equal(await page.textContent('#avatar-state'), 'Listening');
  });

  await t.test('a new message while speaking: the server interrupts, the page stops that turn', async (t) => {
    await page.fill('#message', 'tell me a long story');
    await page.press('#message', 'Enter');
    await until('Object.keys(window.__demo.scheduledByTurn).length === 2 && Object.values(window.__demo.scheduledByTurn)[1] >= 20');
    const longTurn = Object.keys((await state()).scheduledByTurn)[1]!;
    t.equal(await page.textContent('#avatar-state'), 'Responding');

    await page.fill('#message', 'stop, say hi');
    await page.press('#message', 'Enter');
    await until(`window.__demo.interruptedTurns.includes('${longTurn}')`);
    const atInterrupt = (await state()).scheduledByTurn[longTurn];
    await until('window.__demo.turnsPlayed.length === 2', 10_000);
    const s = await state();
    t.equal(s.interruptsReceived, 1, 'the server sent interrupt');
    t.equal(s.scheduledByTurn[longTurn], atInterrupt, 'no frame of the interrupted turn scheduled afterwards');
    t.notOk(s.turnsPlayed.includes(longTurn), 'the interrupted turn never finished playing');
    const hiTurn = s.turnsPlayed[1]!;
    t.equal(s.scheduledByTurn[hiTurn], Math.ceil((0.6 * SAMPLE_RATE) / SAMPLES_PER_FRAME), 'the next turn played in full');
    await until(`document.querySelector('[data-turn-id="${longTurn}"].interrupted') !== null`);
    t.pass('the transcript marks the turn interrupted');
  });

  await t.test('the interrupt button stops playback at once and tells the server', async (t) => {
    const cancelsBefore = upstream!.received.filter((m) => m.type === 'cancel').length;
    await page.fill('#message', 'tell me a long story again');
    await page.press('#message', 'Enter');
    await until('Object.keys(window.__demo.scheduledByTurn).length === 4 && Object.values(window.__demo.scheduledByTurn)[3] >= 20');
    const turnId = Object.keys((await state()).scheduledByTurn)[3]!;
    t.ok((await state()).playing, 'playing before the click');

    await page.click('#interrupt');
    const atClick = await state();
    t.ok(atClick.interruptedTurns.includes(turnId), 'the turn is marked interrupted on click');
    t.ok(atClick.framesStopped > 0, `scheduled audio stopped at once (${atClick.framesStopped} frames)`);
    t.equal(atClick.interruptsSent, 1, 'interrupt sent');
    await until('!window.__demo.playing', 500);

    await until('window.__demo.interruptsReceived === 2', 3_000);
    await agent.waitFor(() => upstream!.received.filter((m) => m.type === 'cancel').length > cancelsBefore);
    t.pass('the server confirmed with interrupt and cancelled the agent');
    // A pong after that: whatever the server sent before answering the ping has arrived and been handled.
    const pongs = (await state()).pongs;
    await until(`window.__demo.pongs > ${pongs}`, 5_000);
    const later = await state();
    t.equal(later.scheduledByTurn[turnId], atClick.scheduledByTurn[turnId], 'no frame of that turn scheduled afterwards');
    t.notOk(later.turnsPlayed.includes(turnId));
    await until(`(${CANVAS_HASH}) === '${neutralHash}'`, 3_000);
    t.equal(await page.textContent('#avatar-state'), 'Listening');
  });

  await t.test('the microphone streams 100 ms PCM16 chunks at inputSampleRate to the agent', async (t) => {
    const up = upstream!;
    const from = up.received.length;
    agent.onText = null;
    await page.click('#mic');
    await until(`window.__demo.micState === 'on'`, 5_000);
    await agent.waitFor(() => up.received.slice(from).filter((m) => m.type === 'audio').length >= 8, 10_000);
    await page.click('#mic');
    await until(`window.__demo.micState === 'off'`, 5_000);
    await agent.waitFor(() => up.received.slice(from).some((m) => m.type === 'audio_commit'), 5_000);
    const sent = up.received.slice(from);
    const chunks = sent.filter((m) => m.type === 'audio').map((m) => Buffer.from(m.data as string, 'base64'));
    t.ok(chunks.slice(0, -1).every((c) => c.length === 4800), `100 ms at 24 kHz = 4800 bytes per chunk (${chunks.map((c) => c.length).join(',')})`);
    const level = rms(Buffer.concat(chunks));
    t.ok(level > 0.01, `the fake microphone's speech arrives (rms ${level.toFixed(4)})`);
    // The WAV's voice is at 180 Hz: the same pitch at 24 kHz means the page resampled correctly.
    const pitch = pitchHz(Buffer.concat(chunks.slice(1, 6)), 24_000);
    t.ok(Math.abs(pitch - 180) < 9, `pitch preserved through capture and resampling (${pitch.toFixed(1)} Hz)`);
    t.ok(sent.findIndex((m) => m.type === 'audio_commit') > sent.findLastIndex((m) => m.type === 'audio'), 'audio_stream_end after the last chunk');
    t.equal((await state()).audioChunksSent, chunks.length, 'every chunk the page sent reached the agent');

    // The agent's transcription of that speech shows as a user line.
    up.send({ type: 'user_transcript', text: 'this came through the microphone' });
    await until(`[...document.querySelectorAll('.line.user .text')].some((e) => e.textContent === 'this came through the microphone')`);
    t.pass('user speech transcript shown');
  });

  await t.test('words appear as they are spoken; the bubble shows transcript_done.text; long words wrap', async (t) => {
    const turnsBefore = (await state()).turnsPlayed.length;
    agent.onText = (up) => void agent.speak(up, syntheticSpeech(5), { words: LONG_WORDS });
    await page.fill('#message', 'show long words');
    await page.press('#message', 'Enter');
    const total = LONG_WORDS.length;
    await until(`(() => { const b = ${BUBBLE_WORDS}; return b.all === ${total} && b.shown > 0 && b.shown < ${total}; })()`, 30_000);
    t.pass('while the turn plays, only the words already heard are shown');
    await until(`window.__demo.turnsPlayed.length > ${turnsBefore}`, 15_000);
    const turnId = await page.evaluate<string>(`[...document.querySelectorAll('.line.assistant')].at(-1).dataset.turnId`);
    await until(`window.__demo.assistantDone['${turnId}'] !== undefined && document.querySelector('[data-turn-id="${turnId}"].done') !== null`);
    const doneText = await page.evaluate<string>(`window.__demo.assistantDone['${turnId}'].text`);
    const rendered = await page.evaluate<string>(`document.querySelector('[data-turn-id="${turnId}"] .text').innerText`);
    t.equal(rendered, doneText, 'the rendered bubble text equals transcript_done.text');
    t.match(doneText, /^Here are some words,"quoted" and then Super/, 'joined by the widget rule');
    const overflow = await page.evaluate<{ scrollWidth: number; clientWidth: number }>(
      `(() => { const el = document.querySelector('[data-turn-id="${turnId}"]'); return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }; })()`,
    );
    t.ok(overflow.scrollWidth <= overflow.clientWidth + 1, `the long word wraps inside its bubble (${overflow.scrollWidth} ≤ ${overflow.clientWidth} px)`);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-page-long-words.png') });
  });

  await t.test('engineers panel, pings, no page errors, screenshot', async (t) => {
    await until(`/\\d/.test(document.querySelector('[data-stat="rtf"]').textContent)`, 3_000);
    await until(`/\\d/.test(document.querySelector('[data-stat="fps"]').textContent)`, 3_000);
    t.match(await page.textContent('[data-stat="loopDelay"]'), /\d.* ms/);
    t.match(await page.textContent('[data-stat="underrunsServer"]'), /^\d+ \/ \d+$/, 'pacing late frames / re-anchors');
    const s = await state();
    t.ok(s.pongs >= 1, `pings answered (${s.pongs})`);
    t.same(s.errors, [], 'no protocol or mic errors');
    await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png') });
    t.same(pageErrors, [], 'no errors in the page');
  });

  await t.test('errors from the server are shown', async (t) => {
    const up = upstream!;
    up.send({ type: 'error', code: 'UPSTREAM_QUOTA', message: 'quota exceeded' });
    await until(`[...document.querySelectorAll('.note.error')].some((n) => n.textContent.includes('UPSTREAM_QUOTA'))`);
    t.pass('an error line in the transcript');
  });
}
