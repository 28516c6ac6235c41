import t from 'tap';
import pino from 'pino';
import { InferencePool } from './pool.js';
import { PcmRing } from '../audio/pcm-ring.js';
import { DEFAULT_MODEL_PATH } from '../config/config.js';

const pool = new InferencePool({ modelPath: DEFAULT_MODEL_PATH, workers: 1, logger: pino({ level: 'silent' }) });
await pool.start();
t.teardown(() => pool.close());

function ringWithAudio(samples: number): PcmRing {
  const ring = PcmRing.create(samples);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 7)), i * 2);
  ring.write(0, pcm);
  return ring;
}

t.test('many windows at once on one worker queue up; none is rejected', async (t) => {
  const sessions = 12;
  const results = await Promise.all(Array.from({ length: sessions }, (_, i) => {
    const ring = ringWithAudio(24_000);
    return pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: `s${i}`, turnId: 't', contextStart: 0, start: 0, end: 24_000, firstFrameIndex: 0, final: true, releaseTo: 0 });
  }));
  t.equal(results.length, sessions);
  t.ok(results.every((r) => r.frameCount === 30));
  t.equal(pool.failures, 0, 'no task failed or was rejected');
  t.equal(pool.neutralWindows, 0);
});
