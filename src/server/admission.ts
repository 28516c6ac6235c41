import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Config } from '../config/config.js';
import { TokenAuthority, generatedSecret } from './auth.js';
import { KeyedRateLimiter, TokenBucket } from './rate-limit.js';
import { ClientAddressResolver, addressText, rateLimitKey } from './client-address.js';

/**
 * Why a connection is refused: the close code and reason (PROTOCOL §1.6), and for refusals a
 * client should be told about in its dialect's error message, the widget-dialect code.
 */
export interface Refusal {
  code: number;
  reason: string;
  errorCode?: 'RATE_LIMITED' | 'SERVER_BUSY';
}

/**
 * The one way into the server, for every dialect (widget `/ws`, frame-stream `/`, MuseTalk):
 * connection attempts limited per client address and per origin, the auth token, and one session
 * count against MAX_SESSIONS across all dialects. Each admitted session gets its message bucket
 * from the same RATE_LIMIT_MESSAGES_* settings.
 */
export class Admission {
  readonly auth: TokenAuthority | null = null;
  private readonly connectionLimiter: KeyedRateLimiter;
  private readonly addressLimiter: KeyedRateLimiter;
  private readonly clientAddresses: ClientAddressResolver;
  private accepting = true;

  /** `openSessions`: sessions open now, all dialects together. */
  constructor(private readonly config: Config, private readonly logger: Logger, private readonly openSessions: () => number) {
    if (config.auth.enabled) {
      if (!config.auth.secretKey) logger.warn('AUTH_ENABLED=true but AUTH_SECRET_KEY is not set: using a random key for this process only; tokens will not survive a restart or verify on other hosts. Set AUTH_SECRET_KEY.');
      this.auth = new TokenAuthority({ secret: config.auth.secretKey ?? generatedSecret(), ttlS: config.auth.tokenTtlS, allowedOrigins: config.auth.allowedOrigins });
    }
    const limits = config.rateLimit;
    this.connectionLimiter = new KeyedRateLimiter(limits.connectionsBurst, limits.connectionsPerS);
    this.addressLimiter = new KeyedRateLimiter(limits.addressConnectionsBurst, limits.addressConnectionsPerS);
    this.clientAddresses = new ClientAddressResolver(config.trustedProxies);
  }

  /**
   * Called in a WebSocket route's upgrade handler (uWS opens the socket synchronously right after,
   * so the session count cannot move in between): null admits. Attempts are limited per client
   * address and per origin, so neither a rotating Origin nor one origin shared by many users gets
   * through.
   */
  check(res: HttpResponse, req: HttpRequest): Refusal | null {
    const origin = req.getHeader('origin');
    const token = new URLSearchParams(req.getQuery() ?? '').get('token');
    if (!this.accepting) return { code: 1001, reason: 'server shutting down' };
    const address = this.clientAddresses.resolve(addressText(res.getRemoteAddressAsText()), req.getHeader('x-forwarded-for'));
    if (!this.addressLimiter.take(rateLimitKey(address))) {
      this.logger.info({ address }, 'connection attempts over the per-address limit');
      return { code: 1008, reason: 'too many connection attempts', errorCode: 'RATE_LIMITED' };
    }
    if (!this.connectionLimiter.take(origin || 'no-origin')) return { code: 1008, reason: 'too many connection attempts', errorCode: 'RATE_LIMITED' };
    if (this.auth) {
      const failure = this.auth.verify(token, origin);
      if (failure) return { code: 1008, reason: failure };
    }
    if (this.openSessions() >= this.config.maxSessions) {
      this.logger.warn({ limit: this.config.maxSessions }, 'session refused: MAX_SESSIONS reached');
      return { code: 1013, reason: 'server at capacity, try again later', errorCode: 'SERVER_BUSY' };
    }
    return null;
  }

  /**
   * A new session's message limit: RATE_LIMIT_MESSAGES_BURST / _PER_S for the widget and
   * frame-stream dialects, MUSETALK_RATE_LIMIT_MESSAGES_* for MuseTalk (one message per 40 ms chunk).
   */
  messageBucket(dialect: 'widget' | 'frame-stream' | 'musetalk' = 'widget'): TokenBucket {
    const l = this.config.rateLimit;
    return dialect === 'musetalk' ? new TokenBucket(l.museTalkMessagesBurst, l.museTalkMessagesPerS) : new TokenBucket(l.messagesBurst, l.messagesPerS);
  }

  /** Shutdown: every later attempt is refused with 1001. */
  stopAccepting(): void {
    this.accepting = false;
  }

  close(): void {
    this.stopAccepting();
    this.connectionLimiter.close();
    this.addressLimiter.close();
  }
}
