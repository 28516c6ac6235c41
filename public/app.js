// The demo page: a reference client of the widget dialect (PROTOCOL.md §1). It wires the socket,
// the synced player, the face, the microphone, the transcript and the engineers' panel, and
// keeps the client-side turn rules: frames of an interrupted turn are never played.
//
// URL options (for tests and engineers): ?idle=0 turns off client-side blinks; ?pingMs=N pings
// every N ms instead of 30 s.

import { AvatarConnection, PING_INTERVAL_MS } from './connection.js';
import { SyncPlayer } from './player.js';
import { FaceAnimator } from './face-animator.js';
import { MicStreamer } from './mic.js';
import { TranscriptView } from './transcript.js';
import { StatsPanel } from './stats-panel.js';
import { base64ToFloat32, int16ToBase64 } from './pcm.js';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

/** Counters and state for tests and curious engineers (window.__demo in the console). */
const debug = {
  connection: 'idle',
  closeCode: null,
  sessionId: null,
  config: null,
  avatarState: null,
  playing: false,
  faceNeutral: true,
  audioContextState: 'none',
  messagesByType: {},
  framesReceived: 0,
  framesScheduled: 0,
  framesPlayed: 0,
  framesApplied: 0,
  framesIgnored: 0,
  framesStopped: 0,
  underruns: 0,
  scheduledByTurn: {},
  turnsPlayed: [],
  interruptedTurns: [],
  interruptsSent: 0,
  interruptsReceived: 0,
  micState: 'off',
  audioChunksSent: 0,
  audioBytesSent: 0,
  get pongs() {
    return connection.pongs;
  },
  errors: [],
  actions: [],
  /** transcript_done messages of assistant turns, by turnId. */
  assistantDone: {},
};
window.__demo = debug;

const userId = `demo_${Math.random().toString(16).slice(2, 10)}`;
const wsUrl = new URL('ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

const connection = new AvatarConnection(wsUrl.href, { pingIntervalMs: Number(params.get('pingMs')) || PING_INTERVAL_MS });
const transcript = new TranscriptView($('transcript'));
const face = new FaceAnimator($('face'), { idleAnimation: params.get('idle') !== '0' });
const player = new SyncPlayer({
  counters: debug,
  onTurnPlayed: (turnId) => {
    debug.turnsPlayed.push(turnId);
    transcript.markAllSpoken(turnId);
  },
});
const mic = new MicStreamer({
  onChunk: (pcm) => {
    if (connection.send({ type: 'audio', data: int16ToBase64(pcm) })) {
      debug.audioChunksSent++;
      debug.audioBytesSent += pcm.byteLength;
    }
  },
  onLevel: (rms) => {
    $('mic-level').style.setProperty('--level', Math.min(1, rms * 6).toFixed(3));
  },
});

/** Turns this client will never play again (our own interrupt, or the server's). */
const interruptedTurns = new Set();

function markInterrupted(turnId) {
  if (interruptedTurns.has(turnId)) return;
  interruptedTurns.add(turnId);
  debug.interruptedTurns.push(turnId);
}

// ---- server → client ----------------------------------------------------------------------

const handlers = {
  config(msg) {
    debug.config = msg.audio;
    player.setSampleRate(msg.audio?.outputSampleRate ?? 24000);
    $('mic').disabled = false;
    $('rates').textContent = `mic ${msg.audio?.inputSampleRate ?? '?'} Hz · out ${msg.audio?.outputSampleRate ?? '?'} Hz`;
  },
  avatar_state(msg) {
    debug.avatarState = msg.state;
    setPill($('avatar-state'), msg.state, msg.state === 'Responding' ? 'busy' : 'ok');
  },
  audio_start(msg) {
    // Like the widget: an audio_start without ids is not a turn we can follow.
    if (!msg.turnId || !msg.sessionId) return;
    debug.sessionId = msg.sessionId;
    if (!interruptedTurns.has(msg.turnId)) player.beginTurn(msg.turnId);
  },
  sync_frame(msg) {
    debug.framesReceived++;
    if (interruptedTurns.has(msg.turnId) || !player.hasTurn(msg.turnId) || typeof msg.audio !== 'string') {
      debug.framesIgnored++;
      return;
    }
    player.pushFrame(msg.turnId, msg.frameIndex, msg.weights ?? {}, base64ToFloat32(msg.audio));
  },
  audio_end(msg) {
    player.endTurn(msg.turnId);
  },
  interrupt(msg) {
    debug.interruptsReceived++;
    if (typeof msg.turnId !== 'string') return;
    markInterrupted(msg.turnId);
    player.stopTurn(msg.turnId);
    transcript.note(`interrupted after ${Math.round(msg.offsetMs ?? 0)} ms of audio`, 'interrupt');
  },
  transcript_delta(msg) {
    if (msg.role === 'assistant') transcript.assistantDelta(msg.turnId, msg.text, msg.startOffset);
  },
  transcript_done(msg) {
    if (msg.role === 'assistant' && typeof msg.turnId === 'string') debug.assistantDone[msg.turnId] = msg;
    transcript.done(msg.turnId, msg.role, msg.text ?? '', msg.interrupted === true);
  },
  trigger_action(msg) {
    debug.actions.push(msg);
    transcript.note(`action: ${msg.function_name}(${JSON.stringify(msg.arguments ?? {})})`, 'action');
    // The widget re-dispatches agent tool calls as a DOM event; so does this page.
    window.dispatchEvent(new CustomEvent('nyxAction', { detail: msg }));
  },
  error(msg) {
    debug.errors.push(msg);
    transcript.note(`server error ${msg.code}: ${msg.message}`, 'error');
  },
};

connection.addEventListener('message', ({ detail: msg }) => {
  debug.messagesByType[msg.type] = (debug.messagesByType[msg.type] ?? 0) + 1;
  handlers[msg.type]?.(msg); // audio_chunk is ignored, as the widget does
});

connection.addEventListener('status', ({ detail }) => {
  debug.connection = detail.state;
  const pill = $('connection');
  if (detail.state === 'open') setPill(pill, 'connected', 'ok');
  else if (detail.state === 'connecting') setPill(pill, 'connecting…', 'busy');
  else {
    debug.closeCode = detail.code ?? null;
    setPill(pill, `closed${detail.code ? ` (${detail.code}${detail.reason ? `: ${detail.reason}` : ''})` : ''}`, 'bad');
    player.stopAll();
    if (mic.active) void toggleMic();
    $('mic').disabled = true;
  }
  $('reconnect').hidden = detail.state !== 'closed';
});

// ---- client → server ----------------------------------------------------------------------

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('message');
  const text = input.value.trim();
  if (!text) return;
  player.unlock(); // a user gesture: lets audio start under autoplay rules
  // The server interrupts a playing turn itself when text arrives (§1.2) and tells us so.
  if (!connection.send({ type: 'text', data: text, userId, timestamp: Date.now() })) {
    transcript.note('not connected: message not sent', 'error');
    return;
  }
  transcript.addUser(text, 'typed');
  input.value = '';
});

$('interrupt').addEventListener('click', () => {
  // Stop what we hear at once; the server answers with `interrupt` for its playing turn.
  for (const turnId of player.activeTurnIds()) {
    markInterrupted(turnId);
    player.stopTurn(turnId);
  }
  if (connection.send({ type: 'interrupt' })) debug.interruptsSent++;
});

async function toggleMic() {
  const button = $('mic');
  button.disabled = true;
  try {
    if (mic.active) {
      debug.micState = 'stopping';
      await mic.stop();
      connection.send({ type: 'audio_stream_end' });
      debug.micState = 'off';
    } else {
      const inputRate = connection.config?.audio?.inputSampleRate;
      if (!inputRate) throw new Error('no config from the server yet');
      player.unlock();
      debug.micState = 'starting';
      await mic.start(inputRate);
      connection.send({ type: 'audio_stream_start', userId, sampleRate: inputRate });
      debug.micState = 'on';
    }
  } catch (err) {
    debug.micState = 'off';
    debug.errors.push({ code: 'MIC', message: String(err?.message ?? err) });
    transcript.note(`microphone: ${err?.message ?? err}`, 'error');
  } finally {
    button.disabled = !connection.isOpen;
    button.classList.toggle('on', mic.active);
    button.setAttribute('aria-pressed', String(mic.active));
    button.querySelector('.label').textContent = mic.active ? 'Stop mic' : 'Talk';
  }
}
$('mic').addEventListener('click', () => void toggleMic());
$('reconnect').addEventListener('click', () => connection.connect());

// ---- rendering ----------------------------------------------------------------------------

function setPill(el, text, tone) {
  el.textContent = text;
  el.dataset.tone = tone;
}

function renderLoop(nowMs) {
  const heard = player.sample();
  if (heard) transcript.markSpoken(heard.turnId, heard.turnMs);
  face.update(nowMs, heard ? heard.weights : null);
  debug.playing = player.isPlaying();
  debug.faceNeutral = face.isNeutral;
  debug.audioContextState = player.contextState;
  $('stage').classList.toggle('speaking', debug.playing);
  requestAnimationFrame(renderLoop);
}
requestAnimationFrame(renderLoop);

const stats = new StatsPanel($('engineers'), () => ({
  bufferMs: `${Math.round(player.bufferedSeconds() * 1000)} ms`,
  framesScheduled: String(debug.framesScheduled),
  framesIgnored: String(debug.framesIgnored),
  underrunsClient: String(debug.underruns),
  rtt: connection.rttMs === null ? '—' : `${connection.rttMs.toFixed(1)} ms`,
  micSent: `${debug.audioChunksSent} chunks`,
}));
stats.start();

connection.connect();
