import type { Logger } from 'pino';
import { ConfigError, type Config } from '../../config/config.js';
import { FliteTts } from '../offline/flite-tts.js';
import { isFliteVoice } from '../offline/tts-protocol.js';
import { SileroVad } from '../local/silero-vad.js';
import { SharedVoice } from './fallback-tts.js';
import { HttpTts } from './http-tts.js';
import { redactUrl } from './openai-http.js';
import type { SpeechServerSettings, VoiceSettings } from './settings.js';
import { OpenAiCompatibleStt, type SpeechToText } from './speech-to-text.js';

/** What every session of a Claw agent shares: the voice (server + flite), the VAD pool, the recogniser. */
export interface VoiceStack {
  voice: SharedVoice;
  vad: SileroVad;
  stt: SpeechToText | null;
  settings: VoiceSettings;
  close(): Promise<void>;
}

/** The speech server (when configured) and flite, shared by every session of a voice agent. */
export interface PreparedVoice {
  voice: SharedVoice;
  close(): Promise<void>;
}

/**
 * The voice of `local` and both Claw agents, built once at start: flite always (the fallback),
 * the speech server when TTS_BASE_URL is set. The server is tried once: if it does not answer,
 * the server still starts and flite speaks until it does (said once in the log). Words of the
 * server's speech are timed at `config.transcriptCharsPerSecond` (the agent's *_TRANSCRIPT_SPEED).
 */
export async function prepareSharedVoice(config: Config, settings: SpeechServerSettings, log: Logger, alsoWarm: Array<{ warm(): Promise<void> }> = []): Promise<PreparedVoice> {
  if (!isFliteVoice(config.ttsVoice)) throw new ConfigError('TTS_VOICE', `unknown flite voice "${config.ttsVoice}"`);
  const flite = new FliteTts({ voice: config.ttsVoice, logger: log });
  const http = settings.tts ? new HttpTts({ ...settings.tts, charsPerSecond: config.transcriptCharsPerSecond, logger: log }) : null;
  const close = async (): Promise<void> => {
    await Promise.all([flite.close(), http?.close()]);
  };
  try {
    await Promise.all([flite.warm(), ...alsoWarm.map((w) => w.warm())]);
  } catch (err) {
    await close();
    throw err;
  }
  if (http) {
    await http.warm().then(
      () => log.info({ url: redactUrl(http.endpoint), voice: settings.tts!.voice, model: settings.tts!.model }, 'speech server ready'),
      (err: Error) => log.warn(`speech server not answering yet, the built-in voice speaks until it does: ${err.message}`),
    );
  } else {
    log.info(`${settings.ttsOffReason}: the built-in flite voice speaks`);
  }
  if (settings.piper.voicePath || settings.piper.onnxModelDir) log.info('TTS_VOICE_PATH / TTS_ONNX_MODEL_DIR name local Piper files: here the speech server loads the voice (TTS_VOICE_NAME)');
  return { voice: new SharedVoice(http, flite, log), close };
}

/** The shared voice and the Silero VAD pool, both warm; a VAD model that does not load is a ConfigError. */
export async function prepareVoiceAndVad(config: Config, speech: SpeechServerSettings, vadSettings: { modelPath: string; threads: number }, log: Logger): Promise<PreparedVoice & { vad: SileroVad }> {
  const vad = new SileroVad({ modelPath: vadSettings.modelPath, threads: vadSettings.threads, logger: log });
  let voice: PreparedVoice;
  try {
    voice = await prepareSharedVoice(config, speech, log, [vad]);
  } catch (err) {
    await vad.close();
    if ((err as Error).message.includes('Silero')) throw new ConfigError('LOCAL_VAD_MODEL_PATH', (err as Error).message);
    throw err;
  }
  return {
    voice: voice.voice,
    vad,
    close: async () => {
      await Promise.all([voice.close(), vad.close()]);
    },
  };
}

/** The Claw agents' stack: the shared voice, the Silero VAD pool and the recogniser. */
export async function prepareVoiceStack(config: Config, settings: VoiceSettings, log: Logger): Promise<VoiceStack> {
  const { voice, vad, close } = await prepareVoiceAndVad(config, settings, settings.vad, log);
  const stt = settings.stt ? new OpenAiCompatibleStt(settings.stt) : null;
  if (!stt) log.warn(`no speech recogniser (${settings.sttOffReason}): speech barges in but is not understood; typed text works`);
  else log.info({ url: redactUrl(settings.stt!.url), model: settings.stt!.model }, 'speech recogniser configured');
  return { voice, vad, stt, settings, close };
}
