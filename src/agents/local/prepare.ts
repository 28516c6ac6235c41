import { ConfigError } from '../../config/config.js';
import type { AgentPreparer } from '../registry.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { FliteTts } from '../offline/flite-tts.js';
import { responderFor } from '../offline/responder.js';
import { isFliteVoice } from '../offline/tts-protocol.js';
import { ChatCompletionsClient } from '../voice/chat-completions.js';
import { redactUrl } from '../voice/openai-http.js';
import { LocalAgent } from './local-agent.js';
import { readLocalSettings, type LocalSettings } from './settings.js';
import { SileroVad } from './silero-vad.js';
import { OpenAiCompatibleStt, type SpeechToText } from '../voice/speech-to-text.js';

/**
 * The speech recogniser for `LOCAL_STT_*`. This is the plug-in point for another engine: build
 * it here from the settings and return it (it must implement SpeechToText and keep its work off
 * the main thread). null: no recogniser, speech only barges in.
 */
export function createSpeechToText(settings: LocalSettings['stt']): SpeechToText | null {
  if (!settings) return null;
  return new OpenAiCompatibleStt(settings);
}

/**
 * `AGENT_TYPE=local`: one shared flite pool, one shared Silero VAD pool, one recogniser and one
 * LLM client for all sessions; one LocalAgent (conversation, VAD state) per session.
 */
export const prepareLocalAgent: AgentPreparer = async (config, log) => {
  if (!isFliteVoice(config.ttsVoice)) throw new ConfigError('TTS_VOICE', `unknown flite voice "${config.ttsVoice}"`);
  const settings = readLocalSettings(config.env);
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const tts = new FliteTts({ voice: config.ttsVoice, logger: log });
  const vad = new SileroVad({ modelPath: settings.vad.modelPath, threads: settings.vad.threads, logger: log });
  try {
    await Promise.all([tts.warm(), vad.warm()]);
  } catch (err) {
    await Promise.all([tts.close(), vad.close()]);
    if ((err as Error).message.includes('Silero')) throw new ConfigError('LOCAL_VAD_MODEL_PATH', (err as Error).message);
    throw err;
  }
  const stt = createSpeechToText(settings.stt);
  const llm = settings.llm ? new ChatCompletionsClient(settings.llm) : null;
  if (!llm) responderFor(knowledgeBase); // build the passage index now, not on the first connection
  const { modelPath: vadModel, ...vadOptions } = settings.vad;
  log.info(
    {
      vadModel,
      vad: vadOptions,
      stt: settings.stt ? { url: redactUrl(settings.stt.url), model: settings.stt.model, language: settings.stt.language } : null,
      llm: settings.llm ? { url: redactUrl(settings.llm.url), model: settings.llm.model } : 'built-in responder',
      voice: config.ttsVoice,
      knowledgeBaseChars: knowledgeBase.length,
    },
    'local agent ready',
  );
  if (!stt) log.warn('local agent: no speech recogniser (LOCAL_STT_URL unset): speech barges in but is not understood; typed text works');
  return {
    create: () =>
      new LocalAgent({
        instructions: config.assistantInstructions,
        knowledgeBase,
        logger: log,
        tts,
        vad,
        vadOptions,
        stt,
        llm,
        historyMessages: settings.llm?.historyMessages,
      }),
    close: async () => {
      await Promise.all([tts.close(), vad.close()]);
    },
  };
};
