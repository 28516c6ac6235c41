/**
 * Strict base64, the one check for every base64 field that comes from outside (client audio,
 * agent audio): the standard alphabet, padded to a multiple of 4 characters. `Buffer.from(s,
 * 'base64')` decodes anything — whitespace, URL-safe characters and junk become noise or are
 * skipped — so a decoder checks this first.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isStrictBase64(s: string): boolean {
  return s.length % 4 === 0 && BASE64.test(s);
}

/** Bytes that strict base64 `s` decodes to (s must have passed the check). */
export function base64ByteLength(s: string): number {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - padding;
}
