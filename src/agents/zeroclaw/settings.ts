import { ConfigError } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';
import { THINKING_MODES, type ThinkingMode } from '../openclaw/settings.js';

/** `AGENT_TYPE=sample_zeroclaw` settings, under the reference's names and defaults (docs/agents-claw.md). */
export interface ZeroClawSettings {
  /** http(s) base of the gateway; the socket is its ws(s) twin + /ws/chat. */
  baseUrl: string;
  wsToken: string | undefined;
  /** `?agent=` for gateways that require it. */
  agent: string | undefined;
  /** A label for logs only: the gateway chooses the model. */
  model: string;
  thinkingMode: ThinkingMode;
  historyMaxMessages: number;
  /** Read for compatibility; the gateway keys its conversation by socket. */
  userId: string | undefined;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** How a tool-approval request from the gateway is answered. */
  approval: ApprovalDecision;
}

export const APPROVAL_DECISIONS = ['deny', 'approve', 'always'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export const ZEROCLAW_DEFAULT_BASE_URL = 'http://127.0.0.1:5555';

export function readZeroClawSettings(env: Readonly<Record<string, string | undefined>>): ZeroClawSettings {
  const r = new EnvReader(env);
  const base = (r.url('ZEROCLAW_BASE_URL') ?? ZEROCLAW_DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (new URL(base).search !== '') throw new ConfigError('ZEROCLAW_BASE_URL', 'must not carry a query: give the token in ZEROCLAW_WS_TOKEN');
  const agent = r.optStr('ZEROCLAW_AGENT');
  if (agent !== undefined && !/^[A-Za-z0-9_.:-]{1,128}$/.test(agent)) throw new ConfigError('ZEROCLAW_AGENT', 'expected an agent alias (letters, digits, _ . : -)');
  return {
    baseUrl: base,
    wsToken: r.optStr('ZEROCLAW_WS_TOKEN'),
    agent,
    model: r.str('ZEROCLAW_MODEL', 'zeroclaw'),
    thinkingMode: r.oneOf('ZEROCLAW_THINKING_MODE', THINKING_MODES, 'minimal'),
    historyMaxMessages: r.num('ZEROCLAW_HISTORY_MAX_MESSAGES', { min: 4, max: 1000, integer: true }) ?? 12,
    userId: r.optStr('ZEROCLAW_USER_ID'),
    connectTimeoutMs: (r.num('ZEROCLAW_CONNECT_TIMEOUT', { min: 0.1, max: 600 }) ?? 5) * 1000,
    readTimeoutMs: (r.num('ZEROCLAW_READ_TIMEOUT', { min: 1, max: 3600 }) ?? 120) * 1000,
    approval: r.oneOf('ZEROCLAW_APPROVAL', APPROVAL_DECISIONS, 'deny'),
  };
}

/** The chat socket's URL: http→ws, https→wss, base path + /ws/chat, ?token= and ?agent=. */
export function chatSocketUrl(s: ZeroClawSettings): string {
  const u = new URL(s.baseUrl);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws/chat`;
  if (s.wsToken) u.searchParams.set('token', s.wsToken);
  if (s.agent) u.searchParams.set('agent', s.agent);
  return u.toString();
}

/** `POST {base}/api/sessions/{id}/abort`, how newer gateways cancel a turn. */
export function abortUrl(s: ZeroClawSettings, sessionId: string): string {
  const u = new URL(s.baseUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/sessions/${encodeURIComponent(sessionId)}/abort`;
  return u.toString();
}
