import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Agent } from '../agents/agent.js';
import { AgentTimeouts } from './agent-timeouts.js';
import { guardAgentEvents } from './agent-guard.js';
import { PcmRing } from '../audio/pcm-ring.js';
import { FRAME_DURATION_MS, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import type { InferencePool } from '../inference/pool.js';
import type { WindowResult } from '../inference/tasks.js';
import type { Pacer } from '../pacing/pacer.js';
import { ProtocolError, parseClientMessage } from '../protocol/widget-client.js';
import { ErrorCode, agentErrorCode, type RelayedAgentCode } from '../protocol/error-codes.js';
import { serializeServerMessage, type ServerMessage } from '../protocol/widget-server.js';
import { DEFAULT_TRANSCRIPT_CHARS_PER_SECOND, TurnTranscript, type TimedWord } from './transcript.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { WavFileWriter } from '../audio/wav-file-writer.js';
import { join } from 'node:path';

/** What a session needs from its socket: the server owns uWS, sessions only send. */
export interface SessionTransport {
  sendText(json: string): void;
  sendFrame(bytes: ArrayBuffer): void;
  close(code: number, reason: string): void;
}

export interface SessionOptions {
  /** Numeric id for the pacing worker's tables. */
  key: number;
  transport: SessionTransport;
  agent: Agent;
  pool: InferencePool;
  pacer: Pacer;
  logger: Logger;
  metrics: ServerMetrics;
  firstWindowSamples: number;
  windowSamples: number;
  contextSamples: number;
  maxMessageBytes: number;
  /** Ring capacity in samples at 24 kHz. */
  ringSamples?: number;
  /** DEBUG_AUDIO_CAPTURE: folder for `<sessionId>-input.wav` and `<sessionId>-agent.wav`. */
  captureDir?: string | null;
  /** AGENT_RESPONSE_TIMEOUT_MS / AGENT_IDLE_TIMEOUT_MS (src/session/agent-timeouts.ts); 0 or absent: off. */
  agentResponseTimeoutMs?: number;
  agentIdleTimeoutMs?: number;
  /** Speaking rate for transcript offsets the agent does not time itself (TRANSCRIPT_CHARS_PER_SECOND). */
  transcriptCharsPerSecond?: number;
}

/** One agent response as the client sees it: `audio_start` … frames … `audio_end`. */
interface Turn {
  seq: number;
  turnId: string;
  transcript: TurnTranscript;
  /** Absolute ring position of the turn's first sample (set when it becomes the playing turn). */
  ringStart: number;
  /** Samples of this turn in the ring / handed to inference. */
  written: number;
  dispatched: number;
  /** Audio waiting for ring space or for the turn before it to finish. Never dropped. */
  pending: Buffer[];
  pendingSamples: number;
  /** An odd trailing byte of agent audio, kept until its partner arrives. */
  carry: Buffer | null;
  inflight: boolean;
  agentDone: boolean;
  /** `audio_start` sent (its first audio arrived). */
  started: boolean;
  framesSent: number;
  /** Timer that releases a partial window (WINDOW_MAX_WAIT_MS). */
  waitTimer: NodeJS.Timeout | null;
  /** The oldest undispatched audio has waited WINDOW_MAX_WAIT_MS. */
  windowDue: boolean;
  /** The agent's conversation item ids for this response (latest seen), forwarded as is. */
  itemIds: { itemId?: string; previousItemId?: string };
}

const MAX_TURN_AUDIO_SAMPLES = OUTPUT_SAMPLE_RATE * 600; // 10 minutes per response
/**
 * A window goes out when it is full, or when its oldest audio has waited this long (whole frames
 * only): an agent that streams in real time must not hold frames back until a window fills, or
 * the media clock overtakes them. Agents that stream faster than real time fill windows first.
 */
const WINDOW_MAX_WAIT_MS = 60;
/** Item ids come from upstream: forwarded only when they are strings. */
function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The turn state machine of one widget-dialect connection (PROTOCOL.md §1.4–1.5). Runs on the
 * main thread and does bookkeeping only: PCM goes into the session's ring, windows go to the
 * inference pool, finished frames come back from the pacing worker and are sent as they are.
 */
export class Session {
  readonly id = randomUUID();
  readonly key: number;
  private readonly o: SessionOptions;
  private readonly ring: PcmRing;
  private readonly log: Logger;
  /** turns[0] plays; later ones are agent responses that started before it finished. */
  private turns: Turn[] = [];
  /** The turn agent audio/text currently goes to (the newest response), if any. */
  private receiving: Turn | null = null;
  /** The user utterance whose words the agent is streaming (`userTranscriptDelta`), until its final text. */
  private userUtterance: { turnId: string; text: string; itemId?: string } | null = null;
  private writePos = 0;
  private turnSeq = 0;
  private closed = false;
  private readonly capture: { input: WavFileWriter; agent: WavFileWriter } | null;
  private readonly agentTimeouts: AgentTimeouts;

  constructor(opts: SessionOptions) {
    if (opts.agent.outputSampleRate !== OUTPUT_SAMPLE_RATE) {
      // Frames carry 800 samples of 24 kHz audio; resampling agent audio here would be main-thread DSP.
      throw new Error(`agent emits ${opts.agent.outputSampleRate} Hz audio; the widget dialect needs ${OUTPUT_SAMPLE_RATE} Hz`);
    }
    this.o = opts;
    this.key = opts.key;
    // 4 s holds context + window + in-flight audio; bursts beyond wait in the turn's pending queue.
    this.ring = PcmRing.create(opts.ringSamples ?? OUTPUT_SAMPLE_RATE * 4);
    this.log = opts.logger.child({ sessionId: this.id });
    this.capture = opts.captureDir
      ? {
          input: new WavFileWriter(join(opts.captureDir, `${this.id}-input.wav`), opts.agent.inputSampleRate),
          agent: new WavFileWriter(join(opts.captureDir, `${this.id}-agent.wav`), opts.agent.outputSampleRate),
        }
      : null;
    this.agentTimeouts = new AgentTimeouts({
      responseMs: opts.agentResponseTimeoutMs ?? 0,
      idleMs: opts.agentIdleTimeoutMs ?? 0,
      onResponseTimeout: () => this.callAgent('response timeout', () => this.onAgentResponseTimeout()),
      onIdleTimeout: () => this.callAgent('idle timeout', () => this.onAgentIdleTimeout()),
    });
    guardAgentEvents(opts.agent, (where, err) => this.onAgentFault(where, err));
    this.bindAgent(opts.agent);
    // After bindAgent: the clocks see the session's state as the handlers left it.
    this.agentTimeouts.watch(opts.agent, () => this.receiving !== null);
  }

  private send(msg: ServerMessage): void {
    if (!this.closed) this.o.transport.sendText(serializeServerMessage(msg));
  }

  sendError(code: ErrorCode | RelayedAgentCode, message: string): void {
    this.o.metrics.error(code);
    this.send({ type: 'error', code, message, timestamp: Date.now() });
  }

  /** Called right after the socket opens. */
  async start(): Promise<void> {
    const agent = this.o.agent;
    this.send({ type: 'config', audio: { inputSampleRate: agent.inputSampleRate, outputSampleRate: OUTPUT_SAMPLE_RATE } });
    try {
      await agent.connect();
    } catch (err) {
      this.log.error({ err }, 'agent failed to connect');
      this.sendError(ErrorCode.AGENT_UNAVAILABLE, 'the conversational agent is not available');
      this.o.transport.close(1011, 'agent unavailable');
    }
  }

  // ---- client → server -------------------------------------------------------------------

  onMessage(raw: ArrayBuffer, isBinary: boolean): void {
    let msg;
    try {
      msg = parseClientMessage(raw, isBinary, this.o.maxMessageBytes);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.sendError(err.code, err.message);
        return;
      }
      throw err;
    }
    switch (msg.type) {
      case 'text':
        this.interrupt('text');
        this.callAgent('sendText', () => this.o.agent.sendText(msg.data));
        this.agentTimeouts.expectResponse();
        break;
      case 'audio':
        this.capture?.input.write(msg.pcm);
        this.callAgent('appendAudio', () => this.o.agent.appendAudio(msg.pcm));
        break;
      case 'audio_stream_start':
        this.o.agent.startAudioStream?.();
        break;
      case 'audio_stream_end': {
        const expectsAnswer = this.callAgent('commitAudio', () => this.o.agent.commitAudio()) === true;
        this.log.debug({ expectsAnswer }, 'microphone committed');
        if (expectsAnswer) this.agentTimeouts.expectResponse();
        break;
      }
      case 'interrupt':
        this.interrupt('client');
        break;
      case 'ping':
        this.send({ type: 'pong', timestamp: Date.now() });
        break;
    }
  }

  // ---- agent → server --------------------------------------------------------------------

  private bindAgent(agent: Agent): void {
    agent.on('responseStart', () => {
      this.endUserUtterance();
      const turn = this.newTurn();
      this.receiving = turn;
      this.turns.push(turn);
      if (this.turns.length === 1) this.promote(turn);
    });
    agent.on('audio', (pcm) => {
      this.capture?.agent.write(pcm);
      // Audio with no open response is what an agent still had in flight after a cancel.
      if (this.receiving) this.appendAudio(this.receiving, pcm);
      else this.log.debug({ bytes: pcm.length }, 'agent audio outside a response dropped');
    });
    agent.on('transcriptDelta', (delta) => {
      const turn = this.receiving;
      if (!turn || typeof delta?.text !== 'string') return;
      const item = { itemId: stringOrUndefined(delta.itemId), previousItemId: stringOrUndefined(delta.previousItemId) };
      if (item.itemId) turn.itemIds = { itemId: item.itemId, ...(item.previousItemId && { previousItemId: item.previousItemId }) };
      for (const w of turn.transcript.push(delta)) this.sendWord(turn, w, item);
    });
    agent.on('responseEnd', ({ transcript }) => {
      const turn = this.receiving;
      if (!turn) return;
      this.receiving = null;
      // An agent that streamed no text but names it at the end: its words still go out one by one.
      if (!turn.transcript.hasText && typeof transcript === 'string') turn.transcript.push({ text: transcript });
      for (const w of turn.transcript.flush()) this.sendWord(turn, w, turn.itemIds);
      turn.agentDone = true;
      if (turn.carry) {
        this.log.warn('agent audio ended on an odd byte; last byte dropped');
        turn.carry = null;
      }
      if (this.turns[0] === turn) this.announceEnd(turn);
      this.schedule();
    });
    agent.on('userTranscriptDelta', ({ text, itemId }) => {
      if (typeof text !== 'string') return;
      const now = Date.now();
      const u = (this.userUtterance ??= { turnId: `user_${now}`, text: '' });
      if (typeof itemId === 'string') u.itemId = itemId;
      u.text += text;
      // The user's words as the agent hears them: whole words, like the assistant's (offsets: none known).
      for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
        this.send({ type: 'transcript_delta', text: word, role: 'user', turnId: u.turnId, sessionId: this.id, timestamp: now, startOffset: 0, endOffset: 0, ...(u.itemId && { itemId: u.itemId }) });
      }
    });
    agent.on('userTranscript', ({ text, itemId }) => {
      const now = Date.now();
      const turnId = this.userUtterance?.turnId ?? `user_${now}`;
      const id = typeof itemId === 'string' ? itemId : this.userUtterance?.itemId;
      this.userUtterance = null;
      this.send({ type: 'transcript_done', text, role: 'user', turnId, timestamp: now, ...(id && { itemId: id }) });
    });
    agent.on('interrupted', () => this.interrupt('agent'));
    agent.on('toolCall', (call) => {
      this.send({ type: 'trigger_action', function_name: call.name, arguments: call.arguments, timestamp: Date.now() });
    });
    agent.on('error', (err) => {
      this.log.warn({ code: err.code, fatal: err.fatal }, `agent error: ${err.message}`);
      this.sendError(agentErrorCode(err.code), err.message);
      if (err.fatal) this.o.transport.close(1011, 'agent failed');
    });
  }

  /** An agent that streamed the user's words but never sent their final text: they end when it answers. */
  private endUserUtterance(): void {
    const u = this.userUtterance;
    if (!u) return;
    this.userUtterance = null;
    this.send({ type: 'transcript_done', text: u.text.trim(), role: 'user', turnId: u.turnId, timestamp: Date.now(), ...(u.itemId && { itemId: u.itemId }) });
  }

  /** Calls into the agent: one that throws is this session's problem only. */
  private callAgent<T>(what: string, call: () => T): T | undefined {
    try {
      return call();
    } catch (err) {
      this.onAgentFault(what, err);
      return undefined;
    }
  }

  private onAgentFault(where: string, err: unknown): void {
    try {
      this.log.error({ err, where }, 'agent fault; contained to this session');
      this.sendError(ErrorCode.AGENT_ERROR, 'the agent did something this session could not handle; the session goes on');
    } catch {
      // Best effort: nothing from here may reach the process either.
    }
  }

  private onAgentResponseTimeout(): void {
    this.log.warn({ timeoutMs: this.o.agentResponseTimeoutMs }, 'agent did not answer in time');
    this.sendError(ErrorCode.AGENT_TIMEOUT, `the agent did not answer within ${this.o.agentResponseTimeoutMs} ms`);
    this.callAgent('cancelResponse', () => this.o.agent.cancelResponse(0));
  }

  /**
   * The agent went silent inside a response: the turn ends as if the agent had ended it (what
   * arrived is played out, then audio_end, transcript_done, avatar_state Listening), and the
   * agent is told to stop, having been heard to the end of what it sent.
   */
  private onAgentIdleTimeout(): void {
    const turn = this.receiving;
    if (!turn) return;
    this.log.warn({ timeoutMs: this.o.agentIdleTimeoutMs, turnId: turn.turnId }, 'agent went silent inside a response; turn ended');
    this.sendError(ErrorCode.AGENT_TIMEOUT, `the agent sent nothing for ${this.o.agentIdleTimeoutMs} ms inside a response; the response was ended`);
    const heardMs = Math.round(((turn.written + turn.pendingSamples) / OUTPUT_SAMPLE_RATE) * 1000);
    // Through the agent's emitter, so the one responseEnd handler closes the turn.
    this.o.agent.emit('responseEnd', { responseId: '', transcript: '' });
    this.callAgent('cancelResponse', () => this.o.agent.cancelResponse(heardMs));
  }

  private newTurn(): Turn {
    const seq = ++this.turnSeq;
    return {
      seq, turnId: `turn_${Date.now()}_${randomBytes(4).toString('hex')}`,
      transcript: new TurnTranscript(this.o.transcriptCharsPerSecond ?? DEFAULT_TRANSCRIPT_CHARS_PER_SECOND),
      ringStart: 0, written: 0, dispatched: 0, pending: [], pendingSamples: 0, carry: null,
      inflight: false, agentDone: false, started: false, framesSent: 0,
      waitTimer: null, windowDue: false, itemIds: {},
    };
  }

  /** One word, one `transcript_delta` (PROTOCOL §1.4). */
  private sendWord(turn: Turn, word: TimedWord, item: { itemId?: string | undefined; previousItemId?: string | undefined }): void {
    this.send({
      type: 'transcript_delta', text: word.text, role: 'assistant', turnId: turn.turnId, sessionId: this.id,
      timestamp: Date.now(), startOffset: Math.round(word.startMs), endOffset: Math.round(word.endMs),
      ...(item.itemId !== undefined ? { itemId: item.itemId } : {}),
      ...(item.previousItemId !== undefined ? { previousItemId: item.previousItemId } : {}),
    });
  }

  private appendAudio(turn: Turn, chunk: Buffer): void {
    let pcm = chunk;
    if (turn.carry) {
      pcm = Buffer.concat([turn.carry, chunk]);
      turn.carry = null;
    }
    if (pcm.length % 2 === 1) {
      turn.carry = Buffer.from(pcm.subarray(pcm.length - 1));
      pcm = pcm.subarray(0, pcm.length - 1);
    }
    if (pcm.length === 0) return;
    if (turn.written + turn.pendingSamples + pcm.length / 2 > MAX_TURN_AUDIO_SAMPLES) {
      this.log.error('agent response exceeds 10 minutes of audio; rest ignored');
      return;
    }
    // Copy: agents may reuse their buffers, and pending audio must outlive the event.
    turn.pending.push(Buffer.from(pcm));
    turn.pendingSamples += pcm.length / 2;
    if (this.turns[0] === turn) {
      this.startAudio(turn);
      this.fillRing(turn);
      this.schedule();
      this.armWaitTimer(turn);
    }
  }

  /** `audio_start`, once, when the playing turn has its first audio. */
  private startAudio(turn: Turn): void {
    if (turn.started) return;
    turn.started = true;
    const now = Date.now();
    this.send({ type: 'audio_start', sessionId: this.id, turnId: turn.turnId, sampleRate: OUTPUT_SAMPLE_RATE, format: 'audio/pcm16', timestamp: now });
  }

  /** Move pending audio of the playing turn into the ring as far as space allows. */
  private fillRing(turn: Turn): void {
    while (turn.pending.length > 0) {
      const head = turn.pending[0]!;
      const n = this.ring.write(this.writePos, head);
      this.writePos += n;
      turn.written += n;
      turn.pendingSamples -= n;
      if (n * 2 < head.length) {
        turn.pending[0] = head.subarray(n * 2);
        return; // ring full: the rest waits for the next released window
      }
      turn.pending.shift();
    }
  }

  private promote(turn: Turn): void {
    turn.ringStart = this.writePos;
    this.o.metrics.turnsStarted++;
    this.send({ type: 'avatar_state', state: 'Responding' });
    if (turn.pendingSamples > 0) {
      this.startAudio(turn);
      this.fillRing(turn);
    }
    if (turn.agentDone) this.announceEnd(turn);
    this.schedule();
  }

  /** Tell the pacer how many frames the playing turn has, once the agent has finished it. */
  private announceEnd(turn: Turn): void {
    const total = turn.written + turn.pendingSamples;
    if (total === 0) {
      this.finishTurn(turn);
      return;
    }
    this.o.pacer.endTurn(this.key, turn.seq, Math.ceil(total / SAMPLES_PER_FRAME));
  }

  /** Start the max-wait clock for audio that is in the ring but not yet in a window. */
  private armWaitTimer(turn: Turn): void {
    if (turn.waitTimer || turn.windowDue || turn.written - turn.dispatched < SAMPLES_PER_FRAME) return;
    turn.waitTimer = setTimeout(() => {
      turn.waitTimer = null;
      turn.windowDue = true;
      this.schedule();
    }, WINDOW_MAX_WAIT_MS);
  }

  /** Hand the playing turn's next window to the pool if one is ready and none is in flight. */
  private schedule(): void {
    const turn = this.turns[0];
    if (!turn || turn.inflight || this.closed) return;
    const available = turn.written - turn.dispatched;
    const windowSamples = turn.dispatched === 0 ? this.o.firstWindowSamples : this.o.windowSamples;
    const lastAudio = turn.agentDone && turn.pendingSamples === 0;
    let n: number;
    if (available >= windowSamples) n = windowSamples;
    else if (lastAudio && available > 0) n = available;
    else if (turn.windowDue && available >= SAMPLES_PER_FRAME) {
      n = available - (available % SAMPLES_PER_FRAME); // whole frames only: more audio follows
    } else return;
    if (turn.waitTimer) clearTimeout(turn.waitTimer);
    turn.waitTimer = null;
    turn.windowDue = false;
    const start = turn.ringStart + turn.dispatched;
    const end = start + n;
    const contextStart = Math.max(turn.ringStart, start - this.o.contextSamples);
    const nextContextStart = Math.max(turn.ringStart, end - this.o.contextSamples);
    const firstFrameIndex = turn.dispatched / SAMPLES_PER_FRAME;
    turn.dispatched += n;
    turn.inflight = true;
    this.o.pool
      .runWindow({
        kind: 'window', ring: this.ring.sab, sessionId: this.id, turnId: turn.turnId, contextStart, start, end,
        firstFrameIndex, final: lastAudio && turn.dispatched === turn.written, releaseTo: nextContextStart,
      }, {
        // Needed by the pacer's due time of its first frame: a stuck worker is hedged or filled, never waited for.
        dueAtMs: () => this.o.pacer.dueAtMs(this.key, turn.seq, firstFrameIndex),
        stillNeeded: () => !this.closed && this.turns[0] === turn,
      })
      .then(
        (result) => this.onWindow(turn, firstFrameIndex, result),
        (err) => {
          // The pool already retried and fell back to neutral weights; this is a broken pool.
          this.log.error({ err }, 'window could not be produced');
          turn.inflight = false;
          this.sendError(ErrorCode.INTERNAL_ERROR, 'lip-sync failed for part of this response');
        },
      );
  }

  private onWindow(turn: Turn, firstFrameIndex: number, result: WindowResult): void {
    turn.inflight = false;
    if (this.closed || this.turns[0] !== turn) return; // interrupted meanwhile: frames dropped
    this.o.pacer.pushFrames(this.key, turn.seq, firstFrameIndex, result);
    this.fillRing(turn);
    this.schedule();
    this.armWaitTimer(turn);
  }

  // ---- pacing worker → client ------------------------------------------------------------

  /** A paced frame is due: send it as it is, unless its turn was interrupted meanwhile. */
  deliverFrame(turnSeq: number, bytes: ArrayBuffer): void {
    const turn = this.turns[0];
    if (!turn || turn.seq !== turnSeq || this.closed) return;
    this.o.transport.sendFrame(bytes);
    turn.framesSent++;
  }

  /** The pacer handed over the turn's last frame. */
  onTurnDone(turnSeq: number): void {
    const turn = this.turns[0];
    if (turn && turn.seq === turnSeq) this.finishTurn(turn);
  }

  private finishTurn(turn: Turn): void {
    const now = Date.now();
    if (turn.started) this.send({ type: 'audio_end', sessionId: this.id, turnId: turn.turnId, timestamp: now });
    this.send({ type: 'transcript_done', text: turn.transcript.text, role: 'assistant', turnId: turn.turnId, timestamp: now, ...(turn.itemIds.itemId && { itemId: turn.itemIds.itemId }) });
    this.send({ type: 'avatar_state', state: 'Listening' });
    this.o.metrics.turnsCompleted++;
    this.turns.shift();
    const next = this.turns[0];
    if (next) this.promote(next);
  }

  // ---- interrupts ------------------------------------------------------------------------

  /**
   * PROTOCOL §1.5, synchronously: interrupt, avatar_state Listening, transcript_done
   * (interrupted) for the playing turn, also at server shutdown so no turn is cut mid-air; its
   * queued frames and inference are dropped; the agent is told how much audio the client got. Nothing is sent when nothing plays.
   */
  interrupt(reason: 'client' | 'text' | 'agent' | 'shutdown'): void {
    // Whatever the agent owed is off: typed text asks again right after this.
    this.agentTimeouts.clear();
    const playing = this.turns[0];
    if (!playing) return;
    const offsetMs = Math.round(playing.framesSent * FRAME_DURATION_MS);
    // The playing turn always announced itself (avatar_state Responding), so it is undone here.
    const now = Date.now();
    this.send({ type: 'interrupt', turnId: playing.turnId, offsetMs, timestamp: now });
    this.send({ type: 'avatar_state', state: 'Listening' });
    this.send({ type: 'transcript_done', text: playing.transcript.spokenBy(offsetMs), role: 'assistant', turnId: playing.turnId, timestamp: now, interrupted: true, ...(playing.itemIds.itemId && { itemId: playing.itemIds.itemId }) });
    this.o.pacer.drop(this.key, playing.seq);
    this.o.metrics.turnsInterrupted++;
    this.log.debug({ reason, turnId: playing.turnId, offsetMs }, 'turn interrupted');
    this.clearTimers();
    this.turns = [];
    this.receiving = null;
    // Also after the agent's own barge-in: it is told what was heard (OpenAI truncates to it).
    this.callAgent('cancelResponse', () => this.o.agent.cancelResponse(offsetMs));
  }

  // ---- lifecycle -------------------------------------------------------------------------

  private clearTimers(): void {
    for (const turn of this.turns) {
      if (turn.waitTimer) clearTimeout(turn.waitTimer);
      turn.waitTimer = null;
    }
  }

  get isSpeaking(): boolean {
    return this.turns.length > 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.agentTimeouts.clear();
    this.turns = [];
    this.receiving = null;
    this.o.pacer.closeSession(this.key);
    if (this.capture) {
      Promise.all([this.capture.input.close(), this.capture.agent.close()])
        .then(() => this.log.info({ dir: this.o.captureDir }, 'debug audio capture written'))
        .catch((err) => this.log.warn({ err }, 'debug audio capture failed'));
    }
    this.o.agent.disconnect().catch((err) => this.log.warn({ err }, 'agent disconnect failed'));
  }
}
