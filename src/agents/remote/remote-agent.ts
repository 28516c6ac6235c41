import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { Reconnector } from '../reconnect.js';
import type { Agent, AgentEvents } from '../agent.js';
import type { FromRemoteAgent, ToRemoteAgent } from './protocol.js';

/** About 60 s of 24 kHz microphone audio as base64 JSON. */
const MAX_OUTBOX_BYTES = 4 * 1024 * 1024;

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
 * exponential backoff, and unknown or malformed upstream messages are logged and ignored.
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
  private responseId = '';

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
      ws.once('error', (err) => {
        if (ws.readyState !== WebSocket.OPEN) reject(new Error(`remote agent unreachable: ${err.message}`));
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

  private onUpstream(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.o.logger.debug('remote agent sent a binary frame; ignored');
      return;
    }
    let msg: FromRemoteAgent;
    try {
      msg = JSON.parse(data.toString('utf8')) as FromRemoteAgent;
    } catch {
      this.o.logger.warn('remote agent sent invalid JSON; ignored');
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    switch (msg.type) {
      case 'response_start':
        this.discarding = false;
        if (this.responseOpen) this.endResponse();
        this.responseOpen = true;
        this.responseText = '';
        this.responseId = typeof msg.responseId === 'string' ? msg.responseId : randomUUID();
        this.emit('responseStart', { responseId: this.responseId });
        break;
      case 'audio_delta': {
        if (typeof msg.data !== 'string' || this.discarding) break;
        if (!this.responseOpen) this.onUpstream(Buffer.from('{"type":"response_start"}'), false);
        this.emit('audio', Buffer.from(msg.data, 'base64'));
        break;
      }
      case 'transcript_delta':
        if (typeof msg.text !== 'string' || !this.responseOpen) break;
        this.responseText += msg.text;
        this.emit('transcriptDelta', { text: msg.text });
        break;
      case 'response_end':
        if (this.responseOpen) this.endResponse(typeof msg.transcript === 'string' ? msg.transcript : undefined);
        break;
      case 'user_transcript':
        if (typeof msg.text === 'string') this.emit('userTranscript', { text: msg.text });
        break;
      case 'interrupted':
        this.responseOpen = false;
        this.discarding = true;
        this.emit('interrupted');
        break;
      case 'tool_call':
        if (typeof msg.name !== 'string') break;
        this.emit('toolCall', { name: msg.name, arguments: isRecord(msg.arguments) ? msg.arguments : {} });
        break;
      case 'error':
        this.emit('error', { code: typeof msg.code === 'string' ? msg.code : 'AGENT_ERROR', message: String(msg.message ?? 'remote agent error'), fatal: false });
        break;
      default:
        this.o.logger.debug({ type: (msg as { type?: unknown }).type }, 'unknown remote agent message; ignored');
    }
  }

  sendText(text: string): void {
    this.send({ type: 'text', text });
  }

  appendAudio(pcm: Buffer): void {
    this.send({ type: 'audio', data: pcm.toString('base64') });
  }

  commitAudio(): void {
    this.send({ type: 'audio_commit' });
  }

  cancelResponse(offsetMs: number): void {
    this.responseOpen = false;
    this.discarding = true;
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
