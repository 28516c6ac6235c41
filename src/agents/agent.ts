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
  /** Microphone closed: agents with manual turn-taking commit the buffered input. */
  commitAudio(): void;
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
  /** Part of the response's text (whole words). */
  transcriptDelta: [text: string];
  /** The response is complete: no more audio or transcript for it. */
  responseEnd: [info: { responseId: string; transcript: string }];
  /** What the user said, transcribed by the agent. */
  userTranscript: [text: string];
  /** The agent detected the user speaking over it (server VAD barge-in). */
  interrupted: [];
  /** The agent called a tool; becomes `trigger_action`. */
  toolCall: [call: { name: string; arguments: Record<string, unknown> }];
  /** Something went wrong upstream. `fatal` means the agent cannot continue. */
  error: [err: { code: string; message: string; fatal: boolean }];
}

/** Settings every agent factory receives (a slice of the validated config). */
export interface AgentContext {
  instructions: string;
  knowledgeBase: string;
  logger: import('pino').Logger;
}
