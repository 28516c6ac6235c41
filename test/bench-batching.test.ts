import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../bench/options.js';
import { BATCHING_PAYS_SHARE, batchingVerdict, benchBatching, type BatchingResult } from '../bench/batching.js';
import type { InferenceSection } from '../bench/inference-rtf.js';
import { renderMarkdown } from '../bench/report.js';
import type { BenchReport } from '../bench/report-types.js';

const shipped = (name: string) => ({ name, path: join(REPO_ROOT, 'pretrained_models', name), role: 'shipped' as const });
const one = (v: number) => ({ median: v, min: v, max: v, runs: 1 });

t.test('the real models: the trained one has a batch axis and is timed per B; the envelope one is single calls', async (t) => {
  const section1 = { contextMs: 400, models: [], cells: [{ model: 'lipsync-small.onnx', poolSize: 1, windowS: 0.2, taskMsP50: one(2) }] } as unknown as InferenceSection;
  const r = await benchBatching({ batches: [1, 2, 3], windowsS: [0.2], runs: 1, callsPerBatch: 5 }, [shipped('lipsync-small.onnx'), shipped('envelope-arkit.onnx')], 400, section1, () => {});
  const lip = r.find((x) => x.model === 'lipsync-small.onnx')!;
  t.ok(lip.batchAxis, `lipsync-small input ${lip.inputShape} has a batch axis`);
  t.same(lip.rows.map((x) => x.batch), [1, 2, 3]);
  t.ok(Math.abs(lip.modelInputS - 0.6) < 1e-9, 'window plus context');
  t.equal(lip.rows[0]!.vsSingle.median, 1, 'B = 1 against itself');
  for (const row of lip.rows) {
    t.ok(row.callMs.median > 0 && Math.abs(row.msPerWindow.median * row.batch - row.callMs.median) < 1e-9, `B = ${row.batch}: ms per window = call / B`);
  }
  const best = lip.rows.find((x) => x.batch === lip.bestBatch)!;
  t.ok(lip.bestBatch !== null && lip.bestBatch > 1, 'a best batch above 1 is named');
  t.ok(lip.rows.slice(1).every((x) => x.msPerWindow.median >= best.msPerWindow.median), 'the best batch is the cheapest per window');
  t.equal(lip.workerMsPerWindow, 2, 'worker time from section 1 (pool 1, same model and window)');
  t.ok(Math.abs(lip.savedShareOfWindow! - (lip.rows[0]!.msPerWindow.median - best.msPerWindow.median) / 2) < 1e-12, 'saving = model ms saved / worker ms');
  const env = r.find((x) => x.model === 'envelope-arkit.onnx')!;
  t.notOk(env.batchAxis, `envelope input ${env.inputShape}: fixed batch of 1`);
  t.same(env.rows.map((x) => x.batch), [1]);
  t.equal(env.savedShareOfWindow, null);
});

t.test('verdict: pays only at the threshold share or above; rendered in section 1', async (t) => {
  const result = (share: number | null): BatchingResult => ({
    model: 'm.onnx', batchAxis: true, inputShape: '[B, N]', windowS: 0.5, modelInputS: 0.9,
    rows: [1, 8].map((b) => ({ batch: b, callMs: one(b === 1 ? 1 : 6), msPerWindow: one(b === 1 ? 1 : 0.75), vsSingle: one(b === 1 ? 1 : 0.75) })),
    workerMsPerWindow: 2.5, bestBatch: 8, savedShareOfWindow: share,
  });
  t.match(batchingVerdict([result(0.05)]), /^batching does not pay: at best B = 8 saves 5\.0 %/);
  t.match(batchingVerdict([result(BATCHING_PAYS_SHARE)]), /^batching pays: B = 8 saves 10\.0 %/);
  t.match(batchingVerdict([result(0.05), { ...result(0.2), model: 'other.onnx' }]), /pays: B = 8 saves 20\.0 % .*other\.onnx/, 'the best model decides');
  t.match(batchingVerdict([{ ...result(null), batchAxis: false }]), /no model with a batch axis/);

  const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
  const md = renderMarkdown({ ...committed, batching: [result(0.1), { ...result(null), model: 'env.onnx', batchAxis: false, inputShape: '[1, N]', rows: [result(null).rows[0]!] }] });
  t.match(md, /### Batching: several windows in one model call/);
  t.match(md, /\| m\.onnx \| 0\.5 \| 0\.9 \| 8 \| 6\.00 \| 0\.75 \| 0\.75 \| 10\.0 % \|/, 'a row per batch size, saving against the worker time');
  t.match(md, /`env\.onnx`: input `\[1, N\]`, a fixed batch of 1: single calls only/);
  t.match(md, /\*\*batching pays: .*\*\* The server runs one window per model call\./);
  t.notMatch(renderMarkdown({ ...committed, batching: undefined }), /### Batching/, 'absent from reports without it');
});
