import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { Reconnector } from '../reconnect.js';
import type { Agent, AgentEvents } from '../agent.js';
import type { FromRemoteAgent, ToRemoteAgent } from './protocol.js';
import { parseUpstream } from './upstream-message.js';

/** About 60 s of 24 kHz microphone audio as base64 JSON. */
const MAX_OUTBOX_BYTES = 4 * 1024 * 1024;
/** The client hears about invalid agent messages at most this often. */
const INVALID_REPORT_INTERVAL_MS = 5000;
/** A response's text kept for `responseEnd` (when the agent sends no final transcript). */
const MAX_RESPONSE_TEXT_CHARS = 256 * 1024;

export interface RemoteAgentOptions {
  url: string;
  instructions: string;
  sampleRate: number;
  logger: Logger;
  /** Reconnect attempts after an unexpected close before giving up (error, fatal). */
  maxReconnects?: number;
  /** First reconnect delay; doubles per attempt, capped at 5 s. */
  reconnectBaseMs?: number;
}

/**
 * An agent served by another process over our JSON protocol (src/agents/remote/protocol.ts).
 * Socket I/O only; interrupts are forwarded upstream; an unexpected close is retried with
 * exponential backoff. Upstream messages are validated (upstream-message.ts): unknown types are
 * ignored, invalid ones dropped with a throttled `AGENT_INVALID_MESSAGE` to the client.
 */
export class RemoteAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly inputSampleRate: number;
  readonly outputSampleRate: number;
  readonly sessionId = randomUUID();
  private ws: WebSocket | null = null;
  /** Input sent while (re)connecting: delivered on open, never dropped (bounded). */
  private outbox: string[] = [];
  private outboxBytes = 0;
  private closing = false;
  private readonly reconnector: Reconnector;
  private responseOpen = false;
  /** After a cancel, audio still in flight upstream belongs to the cancelled response. */
  private discarding = false;
  private responseText = '';
  private responseTextCapped = false;
  private responseId = '';
  /** The user's last input: a response that follows plain audio was not asked for by a commit. */
  private lastInput: 'text' | 'audio' | 'commit' | null = null;
  private detectsTurnsItself = false;
  private invalidReportedAtMs = -Infinity;
  private invalidSinceReport = 0;

  constructor(private readonly o: RemoteAgentOptions) {
    super();
    this.reconnector = new Reconnector({
      open: () => this.connect(),
      onGiveUp: () => this.emit('error', { code: 'AGENT_DISCONNECTED', message: 'the remote agent closed the connection and did not come back', fatal: true }),
      onAttemptFailed: (err, attempt) => this.o.logger.warn({ attempt }, err.message),
      maxAttempts: this.o.maxReconnects,
      baseMs: this.o.reconnectBaseMs ?? 200,
    });
    this.inputSampleRate = o.sampleRate;
    this.outputSampleRate = o.sampleRate;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.o.url, { handshakeTimeout: 5000, maxPayload: 16 * 1024 * 1024 });
      this.ws = ws;
      let opened = false;
      ws.once('open', () => {
        opened = true;
        this.reconnector.reset();
        ws.send(JSON.stringify({ type: 'session.start', sessionId: this.sessionId, inputSampleRate: this.inputSampleRate, outputSampleRate: this.outputSampleRate, instructions: this.o.instructions } satisfies ToRemoteAgent));
        for (const m of this.outbox) ws.send(m);
        this.outbox = [];
        this.outboxBytes = 0;
        resolve();
      });
      // `on`, not `once`: a second 'error' without a listener would throw out of the socket.
      ws.on('error', (err) => {
        if (!opened) reject(new Error(`remote agent unreachable: ${err.message}`));
        else this.o.logger.warn({ err: err.message }, 'remote agent socket error');
      });
      ws.on('message', (data, isBinary) => this.onUpstream(data as Buffer, isBinary));
      // A connection that never opened was reported by the rejection above, not as a drop.
      ws.on('close', () => {
        if (opened) this.onClose(ws);
      });
    });
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws || this.closing) return;
    this.ws = null;
    if (this.responseOpen) this.endResponse();
    const delayMs = this.reconnector.schedule();
    if (delayMs !== null) {
      this.emit('error', { code: 'AGENT_DISCONNECTED', message: `the remote agent closed the connection; reconnecting in ${delayMs} ms`, fatal: false });
    }
  }

  private send(msg: ToRemoteAgent): void {
    const text = JSON.stringify(msg);
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(text);
      return;
    }
    if (this.closing) return;
    if (this.outboxBytes + text.length > MAX_OUTBOX_BYTES) {
      this.emit('error', { code: 'AGENT_BACKLOG', message: 'the remote agent is unreachable and the input backlog is full', fatal: false });
      return;
    }
    this.outbox.push(text);
    this.outboxBytes += text.length;
  }

  private endResponse(transcript?: string): void {
    this.responseOpen = false;
    this.emit('responseEnd', { responseId: this.responseId, transcript: transcript ?? this.responseText });
  }

  /** Last resort: nothing an agent sends may throw out of a socket event into the process. */
  private onUpstream(data: Buffer, isBinary: boolean): void {
    try {
      const parsed = parseUpstream(data, isBinary);
      if (parsed.kind === 'invalid') this.reportInvalid(parsed.reason);
      else if (parsed.kind === 'unknown') this.o.logger.debug('unknown remote agent message type; ignored');
      else this.handle(parsed.msg);
    } catch (err) {
      this.o.logger.error({ err }, 'remote agent message handling failed');
      try {
        this.emit('error', { code: 'AGENT_ERROR', message: 'a message from the remote agent could not be handled', fatal: false });
      } catch (again) {
        this.o.logger.error({ err: again }, 'the error listener failed too');
      }
    }
  }

  /**
   * Invalid messages are dropped; the client hears about it at most once per interval (a broken
   * agent can send thousands a second), the log says how many were dropped meanwhile.
   */
  private reportInvalid(reason: string): void {
    this.invalidSinceReport++;
    const now = performance.now();
    if (now - this.invalidReportedAtMs < INVALID_REPORT_INTERVAL_MS) return;
    this.o.logger.warn({ dropped: this.invalidSinceReport }, `remote agent sent an invalid message (${reason}); ignored`);
    this.invalidReportedAtMs = now;
    this.invalidSinceReport = 0;
    this.emit('error', { code: 'AGENT_INVALID_MESSAGE', message: `the remote agent sent ${reason}; it was ignored`, fatal: false });
  }

  private openResponse(responseId: string | undefined): void {
    this.discarding = false;
    if (this.responseOpen) this.endResponse();
    this.responseOpen = true;
    this.responseText = '';
    this.responseTextCapped = false;
    this.responseId = responseId ?? randomUUID();
    // The agent answered speech without being asked: it detects turns itself (server VAD).
    if (this.lastInput === 'audio') this.detectsTurnsItself = true;
    this.lastInput = null;
    this.emit('responseStart', { responseId: this.responseId });
  }

  private handle(msg: FromRemoteAgent): void {
    switch (msg.type) {
      case 'response_start':
        this.openResponse(msg.responseId);
        break;
      case 'audio_delta':
        if (this.discarding) break;
        if (!this.responseOpen) this.openResponse(undefined);
        this.emit('audio', msg.pcm);
        break;
      case 'transcript_delta':
        if (msg.role === 'user') {
          this.emit('userTranscriptDelta', { text: msg.text, itemId: msg.itemId });
          break;
        }
        if (this.discarding) break;
        if (!this.responseOpen) this.openResponse(undefined);
        if (!this.responseTextCapped) {
          this.responseText += msg.text;
          this.responseTextCapped = this.responseText.length > MAX_RESPONSE_TEXT_CHARS;
        }
        this.emit('transcriptDelta', { text: msg.text, itemId: msg.itemId, previousItemId: msg.previousItemId });
        break;
      case 'response_end':
        if (this.responseOpen) this.endResponse(msg.transcript);
        break;
      case 'user_transcript':
        this.emit('userTranscript', { text: msg.text, itemId: msg.itemId });
        break;
      case 'interrupted':
        this.responseOpen = false;
        this.discarding = true;
        this.emit('interrupted');
        break;
      case 'tool_call':
        this.emit('toolCall', { name: msg.name, arguments: msg.arguments });
        break;
      case 'error':
        this.emit('error', { code: msg.code, message: msg.message, fatal: false });
        break;
    }
  }

  sendText(text: string): void {
    this.lastInput = 'text';
    this.send({ type: 'text', data: text, text });
  }

  appendAudio(pcm: Buffer): void {
    this.lastInput = 'audio';
    this.send({ type: 'audio', data: pcm.toString('base64') });
  }

  /**
   * Asks for an answer (our protocol); reference agents ignore `audio_commit` and detect turns
   * themselves. Once an agent has answered speech on its own, a commit is no longer a question.
   */
  commitAudio(): boolean {
    this.lastInput = 'commit';
    this.send({ type: 'audio_commit' });
    return !this.detectsTurnsItself;
  }

  cancelResponse(offsetMs: number): void {
    // Audio still in flight belongs to the cancelled response only if one is open.
    this.discarding ||= this.responseOpen;
    this.responseOpen = false;
    this.send({ type: 'cancel', offsetMs });
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    this.reconnector.stop();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000, 'session closed');
  }
}
