import { setTimeout as sleep } from 'node:timers/promises';
import { FliteTts } from '../../src/agents/offline/flite-tts.js';
import type { WidgetClient } from './widget-client.js';

/**
 * Microphone input for voice-agent tests: real speech (flite at 16 kHz) inside faint
 * deterministic noise, streamed as widget `audio` messages, so the server's Silero VAD runs on
 * what a microphone would send.
 */
export const MIC_RATE = 16_000;

export async function speechAt16k(text: string): Promise<Int16Array> {
  const tts = new FliteTts({ sampleRate: MIC_RATE });
  try {
    const spoken = await tts.synthesize(text);
    return new Int16Array(spoken.pcm.buffer, spoken.pcm.byteOffset, spoken.pcm.length / 2);
  } finally {
    await tts.close();
  }
}

/** `leadMs` of noise, the speech, `tailMs` of noise. */
export function utterance(speech: Int16Array, leadMs: number, tailMs: number, seed: number): Int16Array {
  const lead = (leadMs * MIC_RATE) / 1000;
  const pcm = new Int16Array(lead + speech.length + (tailMs * MIC_RATE) / 1000);
  let s = seed >>> 0;
  for (let i = 0; i < pcm.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    pcm[i] = ((s >>> 16) % 61) - 30;
  }
  for (let i = 0; i < speech.length; i++) pcm[lead + i] = Math.max(-32768, Math.min(32767, pcm[lead + i]! + speech[i]!));
  return pcm;
}

/** Sends PCM as widget `audio` messages of `chunkMs`, `intervalMs` apart. */
export async function streamMic(client: WidgetClient, pcm: Int16Array, intervalMs = 20, chunkMs = 100): Promise<void> {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const chunkBytes = (chunkMs * MIC_RATE * 2) / 1000;
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    if (client.closed) return;
    client.send({ type: 'audio', data: bytes.subarray(i, i + chunkBytes).toString('base64') });
    await sleep(intervalMs);
  }
}
