import { ConfigError } from '../../config/config.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { LocalAgent } from '../local/local-agent.js';
import type { AgentPreparer } from '../registry.js';
import { redactUrl } from '../voice/openai-http.js';
import { readVoiceSettings } from '../voice/settings.js';
import { prepareVoiceStack } from '../voice/voice-stack.js';
import { voiceAgentOptions } from '../voice/voice-agent-options.js';
import { OpenClawReplies } from './openclaw-replies.js';
import { LOW_LATENCY_LINE, readOpenClawSettings } from './settings.js';

/**
 * `AGENT_TYPE=sample_openclaw`: the voice pipeline (Silero VAD → STT server → sentence TTS,
 * barge-in) with replies from an OpenClaw gateway's chat-completions endpoint. The voice stack is
 * shared; each session has its own conversation and its own gateway `user`.
 */
export const prepareOpenClawAgent: AgentPreparer = async (config, log) => {
  const settings = readOpenClawSettings(config.env);
  const voiceSettings = readVoiceSettings(config.env, 'OPENCLAW');
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const stack = await prepareVoiceStack(config, voiceSettings, log);
  const fast = settings.thinkingMode === 'off' || settings.thinkingMode === 'minimal';
  const instructions = fast ? `${config.assistantInstructions.trim()}\n\n${LOW_LATENCY_LINE}` : config.assistantInstructions;
  log.info(
    {
      gateway: redactUrl(settings.baseUrl),
      model: settings.model,
      agentId: settings.agentId,
      thinkingMode: settings.thinkingMode,
      historyMaxMessages: settings.historyMaxMessages,
      knowledgeBaseChars: knowledgeBase.length,
    },
    'openclaw agent ready',
  );
  return {
    create: () => {
      const agent: LocalAgent = new LocalAgent({
        ...voiceAgentOptions(stack, () => agent),
        instructions,
        knowledgeBase,
        logger: log,
        llm: new OpenClawReplies(settings),
        historyMessages: settings.historyMaxMessages,
      });
      return agent;
    },
    close: () => stack.close(),
  };
};
