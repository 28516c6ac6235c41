import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * HMAC session tokens bound to an origin and a time (PROTOCOL.md §1.6):
 * token = base64("<unixSeconds>:<hex HMAC-SHA256(key=utf8(secret), msg="<unixSeconds>:<origin>")>").
 */
export interface AuthOptions {
  secret: string;
  ttlS: number;
  allowedOrigins: readonly string[];
}

export type AuthFailure = 'missing token' | 'malformed token' | 'origin not allowed' | 'token expired' | 'invalid signature';

/** http://localhost:<any port> and http://127.0.0.1:<any port>: always allowed, for development. */
const DEV_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

export class TokenAuthority {
  constructor(private readonly o: AuthOptions) {}

  isOriginAllowed(origin: string): boolean {
    return DEV_ORIGIN.test(origin) || this.o.allowedOrigins.includes(origin);
  }

  private sign(ts: number, origin: string): string {
    return createHmac('sha256', Buffer.from(this.o.secret, 'utf8')).update(`${ts}:${origin}`).digest('hex');
  }

  issue(origin: string, nowS = Math.floor(Date.now() / 1000)): { token: string; ttl: number; origin: string } {
    const token = Buffer.from(`${nowS}:${this.sign(nowS, origin)}`, 'utf8').toString('base64');
    return { token, ttl: this.o.ttlS, origin };
  }

  /** null when the token is good for this origin now; otherwise why not (safe to show). */
  verify(token: string | null, origin: string, nowS = Math.floor(Date.now() / 1000)): AuthFailure | null {
    if (!this.isOriginAllowed(origin)) return 'origin not allowed';
    if (!token) return 'missing token';
    if (token.length > 512) return 'malformed token';
    // A '+' sent without URL-encoding arrives as a space (query decoding); nothing else is forgiven.
    const given = token.replaceAll(' ', '+');
    const bytes = Buffer.from(given, 'base64');
    // Node's decoder skips junk, trailing data and the base64url alphabet: only the canonical
    // encoding (the one we issue) is a token.
    if (bytes.toString('base64') !== given) return 'malformed token';
    const decoded = bytes.toString('utf8');
    const m = /^(\d{1,12}):([0-9a-f]{64})$/.exec(decoded);
    if (!m) return 'malformed token';
    const ts = Number(m[1]);
    // Tokens from the future (beyond clock skew) are as invalid as expired ones.
    if (nowS - ts > this.o.ttlS || ts - nowS > 30) return 'token expired';
    const expected = Buffer.from(this.sign(ts, origin), 'hex');
    const signature = Buffer.from(m[2]!, 'hex');
    return timingSafeEqual(expected, signature) ? null : 'invalid signature';
  }
}

/** A random key when AUTH_SECRET_KEY is not set (tokens then die with the process). */
export function generatedSecret(): string {
  return randomBytes(32).toString('hex');
}
