import type { AgentEvents } from '../agent.js';
import type { AgentPreparer } from '../registry.js';
import { redactUrl } from '../voice/openai-http.js';
import { readVoiceSettings } from '../voice/settings.js';
import { voiceAgentOptions } from '../voice/voice-agent-options.js';
import { prepareVoiceStack } from '../voice/voice-stack.js';
import { chatSocketUrl, readZeroClawSettings } from './settings.js';
import { ZeroClawAgent } from './zeroclaw-agent.js';
import { ZeroClawGateway } from './zeroclaw-gateway.js';

/**
 * `AGENT_TYPE=sample_zeroclaw`: the shared voice stack, and per session one socket to the
 * gateway's `/ws/chat`. No system prompt or history is sent: the gateway keeps the conversation
 * (ASSISTANT_INSTRUCTIONS and the knowledge base belong in the gateway's own configuration).
 */
export const prepareZeroClawAgent: AgentPreparer = async (config, log) => {
  const settings = readZeroClawSettings(config.env);
  const voiceSettings = readVoiceSettings(config.env, 'ZEROCLAW');
  const stack = await prepareVoiceStack(config, voiceSettings, log);
  log.info({ gateway: redactUrl(chatSocketUrl(settings)), agent: settings.agent, model: settings.model, approval: settings.approval, token: settings.wsToken ? 'set' : 'none' }, 'zeroclaw agent ready');
  return {
    create: () => {
      const report = (err: AgentEvents['error'][0]): void => {
        if (agent.listenerCount('error') > 0) agent.emit('error', err);
        else log.warn(err, 'zeroclaw agent error (no listener)');
      };
      const gateway = new ZeroClawGateway(settings, log, report);
      const agent: ZeroClawAgent = new ZeroClawAgent(
        {
          ...voiceAgentOptions(stack, () => agent),
          instructions: '',
          knowledgeBase: '',
          logger: log,
          historyMessages: settings.historyMaxMessages,
        },
        gateway,
      );
      return agent;
    },
    close: () => stack.close(),
  };
};
