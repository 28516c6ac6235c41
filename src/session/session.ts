import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Agent } from '../agents/agent.js';
import { AgentTimeouts } from './agent-timeouts.js';
import { guardAgentEvents } from './agent-guard.js';
import { FRAME_DURATION_MS, OUTPUT_SAMPLE_RATE } from '../audio/constants.js';
import { TurnScheduler, scheduledTurn, type ScheduledTurn, type SchedulerTimers, type TurnPacer, type WindowRunner } from './turn-scheduler.js';
import { ProtocolError, parseClientMessage } from '../protocol/widget-client.js';
import { ErrorCode, agentErrorCode, type RelayedAgentCode } from '../protocol/error-codes.js';
import { serializeServerMessage, type ServerMessage } from '../protocol/widget-server.js';
import { DEFAULT_TRANSCRIPT_CHARS_PER_SECOND, TurnTranscript, type TimedWord } from './transcript.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { UserUtterance } from './user-utterance.js';
import { WavFileWriter } from '../audio/wav-file-writer.js';
import { join } from 'node:path';

/** What a session needs from its socket: the server owns uWS, sessions only send. */
export interface SessionTransport {
  sendText(json: string): void;
  sendFrame(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
}

export interface SessionOptions {
  /** Numeric id for the pacing worker's tables. */
  key: number;
  transport: SessionTransport;
  agent: Agent;
  /** The inference pool (src/inference/pool.ts); unit tests give a fake. */
  pool: WindowRunner;
  /** The pacing worker's main-thread side (src/pacing/pacer.ts). */
  pacer: TurnPacer;
  logger: Logger;
  metrics: ServerMetrics;
  firstWindowSamples: number;
  windowSamples: number;
  contextSamples: number;
  /** Audio after a window fed to the model when already in the ring (TurnSchedulerOptions.rightContextSamples). */
  rightContextSamples?: number;
  maxMessageBytes: number;
  /** Ring capacity in samples at 24 kHz. */
  ringSamples?: number;
  /** Windows of a turn at the pool at once, and how far ahead of playback (turn-scheduler.ts). */
  maxInflight?: number;
  lookaheadFrames?: number;
  /** DEBUG_AUDIO_CAPTURE: folder for `<sessionId>-input.wav` and `<sessionId>-agent.wav`. */
  captureDir?: string | null;
  /** AGENT_RESPONSE_TIMEOUT_MS / AGENT_IDLE_TIMEOUT_MS (src/session/agent-timeouts.ts); 0 or absent: off. */
  agentResponseTimeoutMs?: number;
  agentIdleTimeoutMs?: number;
  /** Speaking rate for transcript offsets the agent does not time itself (TRANSCRIPT_CHARS_PER_SECOND). */
  transcriptCharsPerSecond?: number;
  /** The window-wait timer's clock (default: the real one); tests drive it. */
  timers?: SchedulerTimers;
}

/** One agent response as the client sees it: `audio_start` … frames … `audio_end`. */
interface Turn extends ScheduledTurn {
  transcript: TurnTranscript;
  /** The agent's conversation item ids for this response (latest seen), forwarded as is. */
  itemIds: { itemId?: string; previousItemId?: string };
}

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
  private readonly log: Logger;
  /** Ring, windows, frames: turns[0] plays, later ones wait (turn-scheduler.ts). */
  private readonly scheduler: TurnScheduler<Turn>;
  /** The turn agent audio/text currently goes to (the newest response), if any. */
  private receiving: Turn | null = null;
  private readonly user: UserUtterance;
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
    this.log = opts.logger.child({ sessionId: this.id });
    this.user = new UserUtterance(this.id, (msg) => this.send(msg));
    this.scheduler = new TurnScheduler<Turn>({
      key: opts.key, sessionId: this.id, pool: opts.pool, pacer: opts.pacer, logger: this.log, timers: opts.timers,
      firstWindowSamples: opts.firstWindowSamples, windowSamples: opts.windowSamples, contextSamples: opts.contextSamples,
      rightContextSamples: opts.rightContextSamples,
      ringSamples: opts.ringSamples, maxInflight: opts.maxInflight, lookaheadFrames: opts.lookaheadFrames,
      events: {
        promoted: () => {
          this.o.metrics.turnsStarted++;
          this.send({ type: 'avatar_state', state: 'Responding' });
        },
        audioStarted: (turn) => {
          this.send({ type: 'audio_start', sessionId: this.id, turnId: turn.turnId, sampleRate: OUTPUT_SAMPLE_RATE, format: 'audio/pcm16', timestamp: Date.now() });
        },
        finished: (turn) => this.finishTurn(turn),
        frame: (bytes) => this.o.transport.sendFrame(bytes),
        windowFailed: (err) => {
          this.log.error({ err }, 'window could not be produced');
          this.sendError(ErrorCode.INTERNAL_ERROR, 'lip-sync failed for part of this response');
        },
      },
    });
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
      this.user.end();
      const turn = this.newTurn();
      this.receiving = turn;
      this.scheduler.enqueue(turn);
    });
    agent.on('audio', (pcm) => {
      this.capture?.agent.write(pcm);
      // Audio with no open response is what an agent still had in flight after a cancel.
      if (this.receiving) this.scheduler.append(this.receiving, pcm);
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
      this.scheduler.endOfAudio(turn);
    });
    agent.on('userTranscriptDelta', (delta) => this.user.delta(delta));
    agent.on('userTranscript', (transcript) => this.user.done(transcript));
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
    return {
      ...scheduledTurn(++this.turnSeq, `turn_${Date.now()}_${randomBytes(4).toString('hex')}`),
      transcript: new TurnTranscript(this.o.transcriptCharsPerSecond ?? DEFAULT_TRANSCRIPT_CHARS_PER_SECOND),
      itemIds: {},
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

  // ---- pacing worker → client ------------------------------------------------------------

  /** A paced frame is due: send it as it is, unless its turn was interrupted meanwhile. */
  deliverFrame(turnSeq: number, bytes: Uint8Array): void {
    this.scheduler.deliverFrame(turnSeq, bytes);
  }

  /** The pacer handed over the turn's last frame. */
  onTurnDone(turnSeq: number): void {
    this.scheduler.onTurnDone(turnSeq);
  }

  private finishTurn(turn: Turn): void {
    const now = Date.now();
    if (turn.started) this.send({ type: 'audio_end', sessionId: this.id, turnId: turn.turnId, timestamp: now });
    this.send({ type: 'transcript_done', text: turn.transcript.text, role: 'assistant', turnId: turn.turnId, timestamp: now, ...(turn.itemIds.itemId && { itemId: turn.itemIds.itemId }) });
    this.send({ type: 'avatar_state', state: 'Listening' });
    this.o.metrics.turnsCompleted++;
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
    const playing = this.scheduler.playing;
    if (!playing) return;
    const offsetMs = Math.round(playing.framesSent * FRAME_DURATION_MS);
    // The playing turn always announced itself (avatar_state Responding), so it is undone here.
    const now = Date.now();
    this.send({ type: 'interrupt', turnId: playing.turnId, offsetMs, timestamp: now });
    this.send({ type: 'avatar_state', state: 'Listening' });
    this.send({ type: 'transcript_done', text: playing.transcript.spokenBy(offsetMs), role: 'assistant', turnId: playing.turnId, timestamp: now, interrupted: true, ...(playing.itemIds.itemId && { itemId: playing.itemIds.itemId }) });
    this.scheduler.dropAll();
    this.o.metrics.turnsInterrupted++;
    this.log.debug({ reason, turnId: playing.turnId, offsetMs }, 'turn interrupted');
    this.receiving = null;
    // Also after the agent's own barge-in: it is told what was heard (OpenAI truncates to it).
    this.callAgent('cancelResponse', () => this.o.agent.cancelResponse(offsetMs));
  }

  // ---- lifecycle -------------------------------------------------------------------------

  get isSpeaking(): boolean {
    return this.scheduler.isSpeaking;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.close();
    this.agentTimeouts.clear();
    this.receiving = null;
    if (this.capture) {
      Promise.all([this.capture.input.close(), this.capture.agent.close()])
        .then(() => this.log.info({ dir: this.o.captureDir }, 'debug audio capture written'))
        .catch((err) => this.log.warn({ err }, 'debug audio capture failed'));
    }
    this.o.agent.disconnect().catch((err) => this.log.warn({ err }, 'agent disconnect failed'));
  }
}
