import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { AgentEvents } from '../agent.js';
import { AsyncQueue } from '../local/async-queue.js';
import { Reconnector } from '../reconnect.js';
import { redactSecrets } from '../redact-secrets.js';
import { redactUrl, UpstreamError } from '../voice/openai-http.js';
import type { ChatMessage, ReplySource } from '../voice/reply-source.js';
import { parseGatewayFrame, type GatewayFrame } from './protocol.js';
import { abortUrl, chatSocketUrl, type ZeroClawSettings } from './settings.js';

/** Keep-alive ping interval; a socket that has not answered the previous ping by the next is dead. */
export const PING_INTERVAL_MS = 20_000;
/** After a cancel, how long the gateway has to end the turn (done / aborted / error) before we reconnect. */
export const CANCEL_GRACE_MS = 1500;
/** The filler the reference speaks when a tool runs before anything was said. */
export const TOOL_FILLER = 'One sec.';
/** Longest reply taken from the gateway for one turn, characters. */
const MAX_REPLY_CHARS = 100_000;
const MAX_FRAME_BYTES = 1 << 20;

interface Turn {
  frames: AsyncQueue<GatewayFrame>;
}

/**
 * One session's persistent socket to a ZeroClaw gateway's `/ws/chat`, and the replies read from
 * it. The gateway keeps the conversation per socket, so a turn sends only the latest utterance.
 * A turn ends at `done`, `error` or `aborted`. A barge-in cancels it both ways (the old
 * `{"type":"cancel"}` and newer gateways' `POST /api/sessions/{id}/abort`); if nothing ends the
 * cancelled turn within CANCEL_GRACE_MS the socket is replaced, so its late `done` can never be
 * read as the answer to the next message. The next turn waits for that.
 */
export class ZeroClawGateway implements ReplySource {
  private ws: WebSocket | null = null;
  private sessionId: string | null = null;
  private turn: Turn | null = null;
  /** A cancelled turn still being drained, and its end. */
  private draining: { end: () => void } | null = null;
  private settled: Promise<void> = Promise.resolve();
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private closed = false;
  /** The connection attempt in progress: a reconnect and a turn never open two sockets. */
  private opening: Promise<void> | null = null;
  private readonly reconnector: Reconnector;
  private readonly where: string;
  private readonly secrets: string[];

  constructor(
    private readonly s: ZeroClawSettings,
    private readonly logger: Logger,
    /** Problems outside a turn (lost socket that cannot be restored). */
    private readonly report: (err: AgentEvents['error'][0]) => void,
  ) {
    this.where = redactUrl(chatSocketUrl(s));
    this.secrets = s.wsToken ? [s.wsToken] : [];
    this.reconnector = new Reconnector({
      open: () => this.open(),
      onReconnected: (attempts) => this.logger.info({ attempts }, 'zeroclaw gateway: reconnected'),
      onAttemptFailed: (err, attempt) => this.logger.warn({ attempt }, `zeroclaw gateway: reconnect failed: ${err.message}`),
      onGiveUp: () => this.report({ code: 'GATEWAY_UNAVAILABLE', message: `lost the ZeroClaw gateway at ${this.where}; the next message tries again`, fatal: false }),
    });
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket; resolves once it is open. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the ZeroClaw gateway connection is closed'));
    if (this.connected) return Promise.resolve();
    this.opening ??= this.connect().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = this.s.wsToken ? { authorization: `Bearer ${this.s.wsToken}` } : {};
      const ws = new WebSocket(chatSocketUrl(this.s), { handshakeTimeout: this.s.connectTimeoutMs, maxPayload: MAX_FRAME_BYTES, headers });
      let opened = false;
      ws.on('open', () => {
        if (this.closed) {
          ws.close(1000, 'session closed');
          reject(new Error('the ZeroClaw gateway connection is closed'));
          return;
        }
        opened = true;
        this.ws = ws;
        this.sessionId = null;
        this.startPing(ws);
        this.reconnector.reset();
        this.logger.info({ url: this.where }, 'zeroclaw gateway: connected');
        resolve();
      });
      ws.on('unexpected-response', (_req, res) => {
        const why = res.statusCode === 401 ? 'refused the token (HTTP 401): check ZEROCLAW_WS_TOKEN' : res.statusCode === 400 ? 'answered HTTP 400 (recent gateways need ZEROCLAW_AGENT)' : `answered HTTP ${res.statusCode}`;
        res.resume();
        ws.terminate();
        reject(new UpstreamError('GATEWAY_UNAVAILABLE', `the ZeroClaw gateway at ${this.where} ${why}`));
      });
      ws.on('error', (err) => {
        if (!opened) reject(new UpstreamError('GATEWAY_UNAVAILABLE', `cannot reach the ZeroClaw gateway at ${this.where}: ${this.clean(err.message)}`));
        else this.logger.warn(`zeroclaw gateway socket error: ${this.clean(err.message)}`);
      });
      ws.on('message', (data, isBinary) => {
        if (this.ws !== ws) return;
        this.onFrame(isBinary ? { type: 'invalid', reason: 'binary frame' } : parseGatewayFrame(data.toString()));
      });
      ws.on('pong', () => {
        if (this.ws === ws) this.awaitingPong = false;
      });
      ws.on('close', () => {
        if (this.ws === ws) this.onLost();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reconnector.stop();
    this.stopPing();
    this.turn?.frames.fail(new UpstreamError('GATEWAY_UNAVAILABLE', 'the session closed'));
    this.turn = null;
    this.draining?.end();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000, 'session closed');
  }

  async *stream(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string, void, undefined> {
    await this.settled;
    if (signal.aborted) throw signal.reason;
    const content = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    if (!this.connected) await this.open(); // a failure rejects with GATEWAY_UNAVAILABLE
    if (signal.aborted) throw signal.reason;
    const turn: Turn = { frames: new AsyncQueue<GatewayFrame>() };
    this.turn = turn;
    const onAbort = (): void => turn.frames.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => turn.frames.fail(new UpstreamError('GATEWAY_TIMEOUT', `the ZeroClaw gateway sent nothing for ${Math.round(this.s.readTimeoutMs / 1000)} s`)), this.s.readTimeoutMs);
    };
    let said = 0;
    let chunks = false;
    let ended = false;
    try {
      this.send({ type: 'message', content });
      arm();
      for (;;) {
        const frame = await turn.frames.next();
        if (signal.aborted) throw signal.reason;
        if (frame === null) break;
        arm();
        if (frame.type === 'chunk') {
          chunks = true;
          said += frame.content.length;
          if (said > MAX_REPLY_CHARS) throw new UpstreamError('GATEWAY_ERROR', `the ZeroClaw gateway's reply exceeds ${MAX_REPLY_CHARS} characters`);
          if (frame.content) yield frame.content;
        } else if (frame.type === 'done') {
          ended = true;
          if (!chunks && frame.fullResponse) yield frame.fullResponse;
          return;
        } else if (frame.type === 'aborted') {
          ended = true;
          return;
        } else if (frame.type === 'error') {
          ended = true;
          throw new UpstreamError('GATEWAY_ERROR', `the ZeroClaw gateway reported an error: ${this.clean(frame.message)}`);
        } else if (frame.type === 'tool_call') {
          // Something to hear while the tool runs; the line break makes it a sentence of its own now.
          if (said === 0) {
            said += TOOL_FILLER.length;
            yield `${TOOL_FILLER}\n`;
          }
        }
      }
    } catch (err) {
      if (!ended && this.turn === turn) this.cancel(turn);
      throw err;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      if (this.turn === turn) this.turn = null;
    }
  }

  // ---- frames ----------------------------------------------------------------------------

  private onFrame(frame: GatewayFrame): void {
    switch (frame.type) {
      case 'invalid':
        this.logger.warn({ reason: frame.reason }, 'zeroclaw gateway: frame ignored');
        return;
      case 'ignored':
        this.logger.debug({ kind: frame.kind }, 'zeroclaw gateway: frame not used');
        return;
      case 'session_start':
        if (frame.sessionId) this.sessionId = frame.sessionId;
        this.logger.debug({ resumed: frame.resumed }, 'zeroclaw gateway: session started');
        return;
      case 'approval_request':
        // Nobody at the kiosk can approve: the configured decision answers at once, never blocking the turn.
        this.send({ type: 'approval_response', request_id: frame.requestId, decision: this.s.approval });
        this.logger.info({ tool: frame.tool, decision: this.s.approval }, 'zeroclaw gateway: tool approval answered');
        return;
      default:
        break;
    }
    if (this.turn) {
      this.turn.frames.push(frame);
      return;
    }
    if (this.draining && (frame.type === 'done' || frame.type === 'aborted' || frame.type === 'error')) {
      this.draining.end();
      return;
    }
    this.logger.debug({ type: frame.type }, 'zeroclaw gateway: frame outside a turn dropped');
  }

  /** Cancels `turn` on the gateway; the next turn waits until it ended or the socket was replaced. */
  private cancel(turn: Turn): void {
    if (this.turn === turn) this.turn = null;
    this.send({ type: 'cancel' });
    const sessionId = this.sessionId;
    if (sessionId) void this.postAbort(sessionId);
    const ws = this.ws;
    this.settled = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.draining = null;
        if (this.closed || this.ws !== ws) return resolve();
        this.logger.info('zeroclaw gateway: the cancelled turn did not end; reconnecting so its late reply is never taken for the next one');
        this.ws = null;
        this.stopPing();
        ws?.close(1000, 'cancelled turn did not end');
        this.open().then(resolve, (err: Error) => {
          this.logger.warn(`zeroclaw gateway: reconnect after cancel failed: ${err.message}`);
          this.reconnector.schedule();
          resolve();
        });
      }, CANCEL_GRACE_MS);
      this.draining = {
        end: () => {
          clearTimeout(timer);
          this.draining = null;
          resolve();
        },
      };
    });
  }

  private async postAbort(sessionId: string): Promise<void> {
    try {
      const res = await fetch(abortUrl(this.s, sessionId), {
        method: 'POST',
        headers: this.s.wsToken ? { authorization: `Bearer ${this.s.wsToken}` } : {},
        signal: AbortSignal.timeout(this.s.connectTimeoutMs),
      });
      await res.body?.cancel();
      this.logger.debug({ status: res.status }, 'zeroclaw gateway: abort requested');
    } catch (err) {
      this.logger.debug(`zeroclaw gateway: abort request failed: ${this.clean(err instanceof Error ? err.message : String(err))}`);
    }
  }

  private onLost(): void {
    this.ws = null;
    this.stopPing();
    if (this.closed) return;
    this.turn?.frames.fail(new UpstreamError('GATEWAY_UNAVAILABLE', `lost the ZeroClaw gateway at ${this.where} mid-reply`));
    this.turn = null;
    this.draining?.end();
    this.logger.warn('zeroclaw gateway: connection lost; reconnecting');
    this.reconnector.schedule();
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private startPing(ws: WebSocket): void {
    this.stopPing();
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (this.awaitingPong) {
        this.logger.warn('zeroclaw gateway: no pong since the last ping; the connection is dead');
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clean(text: string): string {
    return redactSecrets(text, this.secrets).slice(0, 300);
  }
}
