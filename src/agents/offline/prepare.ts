import { ConfigError } from '../../config/config.js';
import type { AgentPreparer } from '../registry.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { FliteTts } from './flite-tts.js';
import { OfflineAgent } from './offline-agent.js';
import { responderFor } from './responder.js';
import { isFliteVoice } from './tts-protocol.js';

/** `AGENT_TYPE=offline`: one shared flite pool and passage index, one OfflineAgent per session. */
export const prepareOfflineAgent: AgentPreparer = async (config, log) => {
  if (!isFliteVoice(config.ttsVoice)) throw new ConfigError('TTS_VOICE', `unknown flite voice "${config.ttsVoice}"`);
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const tts = new FliteTts({ voice: config.ttsVoice, logger: log });
  await tts.warm();
  responderFor(knowledgeBase); // build the passage index now, not on the first connection
  log.info({ voice: config.ttsVoice, knowledgeBaseChars: knowledgeBase.length }, 'offline agent ready');
  return {
    create: () => new OfflineAgent({ instructions: config.assistantInstructions, knowledgeBase, logger: log, tts }),
    close: () => tts.close(),
  };
};
