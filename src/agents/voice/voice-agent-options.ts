import type { Agent } from '../agent.js';
import type { LocalAgentOptions } from '../local/local-agent.js';
import type { VoiceStack } from './voice-stack.js';

/**
 * The voice half of a Claw agent's options: the session's own view of the shared voice (which
 * tells that session, once, when the built-in voice stands in for the speech server), the VAD,
 * the recogniser and the sentence size. `agent` is read only when the fallback happens.
 */
export function voiceAgentOptions(stack: VoiceStack, agent: () => Agent): Pick<LocalAgentOptions, 'tts' | 'vad' | 'vadOptions' | 'stt' | 'sttHint' | 'maxSentenceChars'> {
  const { modelPath: _model, threads: _threads, ...vadOptions } = stack.settings.vad;
  return {
    tts: stack.voice.forSession((reason) => {
      const a = agent();
      const err = { code: 'TTS_FALLBACK', message: `the speech server failed, the built-in voice speaks instead: ${reason}`, fatal: false };
      if (a.listenerCount('error') > 0) a.emit('error', err);
    }),
    vad: stack.vad,
    vadOptions,
    stt: stack.stt,
    sttHint: stack.settings.sttOffReason,
    maxSentenceChars: stack.settings.sentenceMaxChars,
  };
}
