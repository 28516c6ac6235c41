import type { EventEmitter } from 'node:events';

/**
 * One conversational agent session, bound to one client connection.
 *
 * Every provider (offline, OpenAI Realtime, Gemini Live, remote, local voice) implements this
 * interface; the session layer never knows which one it talks to. Audio is PCM16 LE mono.
 * Agents live on the main thread: they may only do socket I/O and light bookkeeping there;
 * CPU work (TTS, VAD, STT) goes to worker threads.
 */
export interface Agent extends EventEmitter<AgentEvents> {
  /** Sample rate the agent wants from the microphone (told to the client in `config`). */
  readonly inputSampleRate: number;
  /** Sample rate of the audio the agent emits in `audio` events. */
  readonly outputSampleRate: number;
  /** Open upstream connections. Resolves when the agent can take input. */
  connect(): Promise<void>;
  /** User typed text: start a response. */
  sendText(text: string): void;
  /** Append microphone PCM16 at `inputSampleRate`. */
  appendAudio(pcm: Buffer): void;
  /** Microphone opened (`audio_stream_start`): a new mic stream begins. Optional. */
  startAudioStream?(): void;
  /**
   * Microphone closed: agents with manual turn-taking commit the buffered input. Returns true
   * when this commit asks for an answer, so the session may time the agent out
   * (AGENT_RESPONSE_TIMEOUT_MS); agents that detect turns themselves, or ignore the mic, return
   * nothing.
   */
  commitAudio(): boolean | void;
  /**
   * Stop the current response. `offsetMs` is how much of its audio the client actually
   * received, so agents that support it can forget the unspoken rest.
   */
  cancelResponse(offsetMs: number): void;
  /** Close upstream connections and release resources. Idempotent. */
  disconnect(): Promise<void>;
}

export interface AgentEvents {
  /** A new response starts (before its first audio). */
  responseStart: [info: { responseId: string }];
  /** A chunk of the response's speech, PCM16 LE mono at `outputSampleRate`. */
  audio: [pcm: Buffer];
  /** The next piece of the response's text: see `AssistantTextDelta`, the one text contract. */
  transcriptDelta: [delta: AssistantTextDelta];
  /** The response is complete: no more audio or transcript for it. */
  responseEnd: [info: { responseId: string; transcript: string }];
  /** What the user said, transcribed by the agent (final text of one user utterance). */
  userTranscript: [transcript: UserTranscript];
  /** Part of the user's words while the agent is still transcribing them (streamed STT). */
  userTranscriptDelta: [delta: UserTranscript];
  /** The agent detected the user speaking over it (server VAD barge-in). */
  interrupted: [];
  /** The agent called a tool; becomes `trigger_action`. */
  toolCall: [call: { name: string; arguments: Record<string, unknown> }];
  /** Something went wrong upstream. `fatal` means the agent cannot continue. */
  error: [err: { code: string; message: string; fatal: boolean }];
}

/**
 * Assistant text, the one contract between every agent and the session for what the avatar says.
 *
 * - `text` is the next fragment of the reply exactly as the agent produced it, whitespace
 *   included: the fragments of one response, concatenated, are its full text. Fragments may cut
 *   words anywhere ("Hel", "lo, wor", "ld."); the session cuts the stream into whole words and
 *   sends one word per `transcript_delta`. An agent never strips or adds spaces.
 * - `words`, when the agent knows when each word is spoken (its own TTS reports timings): one
 *   entry per whitespace-separated word of `text`, in order, in ms from the start of this
 *   response's audio. `text` then holds whole words only. Without `words` the session estimates
 *   offsets from a characters-per-second rate.
 * - `itemId` / `previousItemId`: the upstream conversation item, forwarded to the client as is.
 */
export interface AssistantTextDelta {
  text: string;
  words?: WordTiming[];
  itemId?: string;
  previousItemId?: string;
}

/** When one word is spoken, in ms from the start of its response's audio. */
export interface WordTiming {
  startMs: number;
  endMs: number;
}

/** The user's words as the agent transcribed them. */
export interface UserTranscript {
  text: string;
  itemId?: string;
}

/** Settings every agent factory receives (a slice of the validated config). */
export interface AgentContext {
  instructions: string;
  knowledgeBase: string;
  logger: import('pino').Logger;
}
