import { LocalAgent, type LocalAgentOptions } from '../local/local-agent.js';
import type { ZeroClawGateway } from './zeroclaw-gateway.js';

/**
 * `AGENT_TYPE=sample_zeroclaw` for one session: the voice pipeline of LocalAgent (VAD, STT,
 * sentence TTS, barge-in) with its replies read from the session's own gateway socket, which is
 * opened with the session and closed with it.
 */
export class ZeroClawAgent extends LocalAgent {
  constructor(opts: Omit<LocalAgentOptions, 'llm'>, private readonly gateway: ZeroClawGateway) {
    super({ ...opts, llm: gateway });
  }

  override async connect(): Promise<void> {
    await super.connect();
    await this.gateway.open();
  }

  override async disconnect(): Promise<void> {
    this.gateway.close();
    await super.disconnect();
  }
}
