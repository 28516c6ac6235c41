/**
 * The two clocks that keep a silent agent from holding a session forever (issue 13 item 7):
 *
 * - response: after the user asked (typed text, or a commit the agent answers), the first sign
 *   of a response must come within `responseMs`. The agent still transcribing the user's words
 *   restarts it.
 * - idle: inside an open response, the agent must send something (audio, text, its end) at
 *   least every `idleMs`.
 *
 * 0 turns a clock off. The owner decides what expiry means; this class keeps the timers and
 * knows which agent events move them.
 */
import type { Agent } from '../agents/agent.js';

export interface AgentTimeoutOptions {
  responseMs: number;
  idleMs: number;
  onResponseTimeout: () => void;
  onIdleTimeout: () => void;
}

export class AgentTimeouts {
  private responseTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: AgentTimeoutOptions) {}

  /** The user asked for an answer. */
  expectResponse(): void {
    this.clearResponse();
    if (this.o.responseMs <= 0) return;
    this.responseTimer = setTimeout(() => {
      this.responseTimer = null;
      this.o.onResponseTimeout();
    }, this.o.responseMs);
  }

  /** The agent is still working on the user's input (e.g. transcribing it): wait again. */
  agentWorking(): void {
    if (this.responseTimer) this.expectResponse();
  }

  /** Any sign of an answer (or an error the client was told about): stop waiting for one. */
  clearResponse(): void {
    if (this.responseTimer) clearTimeout(this.responseTimer);
    this.responseTimer = null;
  }

  /** Something arrived inside the open response: restart the idle clock. */
  responseActivity(): void {
    this.clearIdle();
    if (this.o.idleMs <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.o.onIdleTimeout();
    }, this.o.idleMs);
  }

  /** The open response ended (its end, an interrupt): no idle clock without one. */
  clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  clear(): void {
    this.clearResponse();
    this.clearIdle();
  }

  /**
   * Follow the agent's events. `receiving`: whether a response of this agent is open in the
   * session (audio or text outside one is a leftover of a cancelled response, not an answer).
   */
  watch(agent: Agent, receiving: () => boolean): void {
    const activity = (): void => {
      if (!receiving()) return;
      this.clearResponse();
      this.responseActivity();
    };
    agent.on('responseStart', activity);
    agent.on('audio', activity);
    agent.on('transcriptDelta', activity);
    agent.on('toolCall', () => {
      this.clearResponse();
      if (receiving()) this.responseActivity();
    });
    agent.on('responseEnd', () => this.clearIdle());
    agent.on('userTranscript', () => this.agentWorking());
    agent.on('userTranscriptDelta', () => this.agentWorking());
    agent.on('interrupted', () => this.clear());
    // The client was told about the error; waiting on for an answer would only add a second one.
    agent.on('error', () => this.clearResponse());
  }
}
