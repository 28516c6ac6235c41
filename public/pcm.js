// PCM16 LE mono <-> base64, the audio encoding of the widget dialect (PROTOCOL.md §1.2–1.3).

/** base64 PCM16 LE → Float32 samples in [-1, 1). Read with a DataView so byte order is explicit. */
export function base64ToFloat32(base64) {
  const binary = atob(base64);
  const count = binary.length >> 1;
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const lo = binary.charCodeAt(2 * i);
    const hi = binary.charCodeAt(2 * i + 1);
    const value = (hi << 8) | lo;
    samples[i] = (value >= 0x8000 ? value - 0x10000 : value) / 32768;
  }
  return samples;
}

/** Int16Array (little-endian in memory on every browser platform) → base64. */
export function int16ToBase64(samples) {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  // String.fromCharCode with many arguments overflows the stack: go in slices.
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}
