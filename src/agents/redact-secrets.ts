/**
 * Removes secrets from text that is about to leave the process (a client error message, a log
 * line): the configured key wherever it appears, and anything shaped like an OpenAI or Google
 * API key, since providers sometimes echo a partial key back in their error messages.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out.replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, 'sk-[redacted]').replace(/\bAIza[0-9A-Za-z_-]{10,}/g, '[redacted]').replace(/([?&](?:key|access_token)=)[^&\s]+/g, '$1[redacted]');
}
